"""The dashboard: shows events from any event source. Never imports a framework."""
