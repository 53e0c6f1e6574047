"""Match results and the change feed (scope read_matches): see views.py; the one output definition is output.py."""
