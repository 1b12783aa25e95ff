"""The call center: calls, IVR, queues and agents, callbacks, voicemail, supervisors, KPIs."""
