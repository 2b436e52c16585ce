"""HTTP and WebSocket transport: parsing, auth, error mapping; all logic lives in services."""
