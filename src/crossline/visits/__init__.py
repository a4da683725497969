"""The telehealth visit: a clinician proposes a time, the patient confirms or asks for another
through their private link, both get a calendar invitation, reminders go out before it, and the
clinician records whether it happened.

crossline stores the program's video-visit link; the video itself is the program's own tool.
"""
