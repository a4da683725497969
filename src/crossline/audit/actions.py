"""The typed audit actions. Every event in the log has one of these; nothing else is accepted.

Names are `<thing>.<what happened>`. Add a member here (never rename or remove one: the chain
covers the stored names) when a new kind of access to patient data or security event appears.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    # Anonymous patient side (by token id only: the assessment's public id)
    ASSESSMENT_SUBMITTED = "assessment.submitted"
    CONTACT_CREATED = "contact.created"
    LETTER_VIEWED_BY_PATIENT = "letter.viewed_by_patient"
    VISIT_ANSWERED_BY_PATIENT = "visit.answered_by_patient"
    # Sign-in and accounts
    SIGNIN_SUCCEEDED = "signin.succeeded"
    SIGNIN_FAILED = "signin.failed"
    SIGNIN_LOCKED_OUT = "signin.locked_out"
    MFA_FAILED = "mfa.failed"
    MFA_ENROLLED = "mfa.enrolled"
    RECOVERY_CODE_USED = "mfa.recovery_code_used"
    SIGNOUT = "signout"
    SIGNOUT_EVERYWHERE = "signout.everywhere"
    SESSION_EXPIRED = "session.expired"
    PERMISSION_DENIED = "permission.denied"
    USER_CREATED = "user.created"
    USER_CHANGED = "user.changed"
    ENROLMENT_COMPLETED = "enrolment.completed"
    # Clinical reads and writes
    QUEUE_VIEWED = "queue.viewed"
    CASE_OPENED = "case.opened"
    CASE_SEARCHED = "case.searched"  # by e-mail or phone: how, and how many found; never what
    CASE_CLAIMED = "case.claimed"
    CASE_RELEASED = "case.released"
    CASE_CLOSED = "case.closed"
    CASE_REOPENED = "case.reopened"
    RECORD_VIEWED = "record.viewed"
    CONTACT_VIEWED = "contact.viewed"
    RECORD_EXPORTED = "record.exported"
    RECORD_DELETED = "record.deleted"  # patient-record retention: the case id, nothing else
    RECORD_HOLD_CHANGED = "record.hold_changed"  # a legal hold placed, changed or released
    EVALUATION_SAVED = "evaluation.saved"
    EVALUATION_DECIDED = "evaluation.decided"
    EVALUATION_AMENDED = "evaluation.amended"  # an addendum to a decided evaluation
    LETTER_ISSUED = "letter.issued"
    VISIT_PROPOSED = "visit.proposed"
    VISIT_CHANGED = "visit.changed"
    VISIT_NO_SHOW = "visit.no_show"
    ALERT_CREATED = "alert.created"
    ALERT_ACKNOWLEDGED = "alert.acknowledged"
    ALERT_ESCALATED = "alert.escalated"
    NOTIFICATION_SENT = "notification.sent"
    NOTIFICATION_FAILED = "notification.failed"  # an attempt failed (retried or given up)
    # Operator
    SETTINGS_CHANGED = "settings.changed"
    AUDIT_SEARCHED = "audit.searched"
    AUDIT_EXPORTED = "audit.exported"
    AUDIT_VERIFIED = "audit.verified"
    AUDIT_ANCHORED = "audit.anchored"
    # Appended by accounts
    RECOVERY_CODES_REGENERATED = "mfa.recovery_codes_regenerated"
    # Treatment course (crossline.course)
    COURSE_PLANNED = "course.planned"
    COURSE_VIEWED = "course.viewed"
    COURSE_DECIDED = "course.decided"
    COURSE_PAUSED = "course.paused"  # by the rules: why, and the session or weekly behind it
    # A safety answer suspended the course: its state before, the session or weekly, and whether
    # the answer was a stored check-in, a first step or one that could not be stored
    COURSE_SUSPENDED = "course.suspended"
    SESSION_SCHEDULED = "session.scheduled"
    SESSION_CLEARED = "session.cleared"
    SESSION_DONE = "session.done"
    SESSION_MISSED = "session.missed"
    CONSENT_SIGNED = "consent.signed"
    CHECKIN_SUBMITTED = "checkin.submitted"
    CHECKIN_VIEWED_BY_PATIENT = "checkin.viewed_by_patient"
    # A check-in's first step with PHQ-9 item 9 above 0: its safety answers kept, the course
    # suspended, its ASQ step awaited (crossline.course.services.first_step_at_risk)
    CHECKIN_FIRST_STEP_AT_RISK = "checkin.first_step_at_risk"
    RISK_DOCUMENTED = "risk.documented"
    SUPPLY_RECORDED = "supply.recorded"
    RECOVERY_PLAN_SAVED = "recovery_plan.saved"
    REMINDER_SENT = "reminder.sent"
    PROGRAM_OUTCOMES_VIEWED = "program.outcomes_viewed"
    PROGRAM_SCREENS_EXPORTED = "program.screens_exported"
    # Integrators: an EHR's CDS Hooks call answered (the EHR and the card counts; no patient)
    CDS_CHECKED = "cds.checked"
    # … and its report that a prescriber overrode cards (how many, of which kinds; no patient)
    CDS_FEEDBACK = "cds.feedback"
