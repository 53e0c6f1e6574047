"""Signals of the enterprises app (its own: receivers live in the apps that depend on it).

`rows_saved`: rows of one model written in bulk (save_profiles: the staff import), sent once per
model and kind of write after the rows and their history are written, with `rows` (the instances)
and `created`. post_save is not sent for them: one receiver call per batch instead of one per row
(matching marks the enterprises to re-evaluate in one statement).
"""

from django.dispatch import Signal

rows_saved = Signal()
