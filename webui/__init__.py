"""The web process: bottle app for dashboards, consoles and the JSON API."""
