"""The box's machinery: the tick loop, clock, timers, hand-off queues, media, detectors, recorder, journal and control socket."""
