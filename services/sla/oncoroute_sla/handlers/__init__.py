"""What happens to clocks and timers when events arrive or timers fall due."""

SOURCE = "oncoroute/sla"
