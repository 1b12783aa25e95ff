"""The box's machinery: tick loop, clock, timers, hand-off queues, media, detectors, recorder, journal, control."""
