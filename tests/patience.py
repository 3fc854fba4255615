"""How long a test waits for an event before it calls the event missing.

Every wait in the tests ends as soon as its event comes (a status, a line, a job's end), so
this bound costs nothing when a test passes. It only has to be long enough that a machine
busy with other work (the cores shared with a second suite, a build, a browser) still sees
the event in time: a 60 s bound failed there (issue 31), on a drill that takes seconds
idle. Ten minutes keeps a stuck test from hanging the run for ever while leaving a loaded
machine a margin of two orders of magnitude.
"""

PATIENCE = 600.0
