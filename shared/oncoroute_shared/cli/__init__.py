"""The `oncoroute` console command."""
