"""Outbox, relay, inbox-guarded consumers, dead letters and topic administration."""
