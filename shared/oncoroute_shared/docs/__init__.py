"""Generated contract documentation: event schemas, AsyncAPI documents and EVENTS.md."""
