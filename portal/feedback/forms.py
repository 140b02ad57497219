"""Forms of the feedback pages. They validate and never write."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from werkzeug.utils import secure_filename
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.core.forms import IntegerSelectField
from portal.feedback.attachments import (
    MAX_ATTACHMENTS,
    CheckedUpload,
    UploadRejected,
    check_upload,
    max_bytes,
)
from portal.feedback.models import KINDS, PRIORITIES, SEGMENTS, STATUSES
from portal.orders.models import ORDER_STATUSES

KIND_LABELS = {
    "complaint": _l("Complaint"),
    "question": _l("Question"),
    "suggestion": _l("Suggestion"),
    "compliment": _l("Compliment"),
}
STATUS_LABELS = {
    "new": _l("New"),
    "assigned": _l("Assigned"),
    "in_progress": _l("In progress"),
    "waiting_on_customer": _l("Waiting on you"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}
STAFF_STATUS_LABELS = {**STATUS_LABELS, "waiting_on_customer": _l("Waiting on customer")}
PRIORITY_LABELS = {
    "low": _l("Low"),
    "normal": _l("Normal"),
    "high": _l("High"),
    "urgent": _l("Urgent"),
}
EVENT_LABELS = {
    "created": _l("Opened"),
    "routed": _l("Routed"),
    "rerouted": _l("Re-routed"),
    "assigned": _l("Assigned"),
    "status": _l("Status"),
    "priority": _l("Priority"),
    "escalated": _l("Escalated by the customer"),
    "reopened": _l("Reopened"),
    "rated": _l("Rated"),
    "breached": _l("SLA breached"),
}
SLA_LABELS = {"on_time": _l("On time"), "due_soon": _l("Due soon"), "breached": _l("Breached")}
SEGMENT_LABELS = {"golden": _l("Golden"), "lapsed": _l("Lapsed"), "new": _l("New customer")}
RATING_CHOICES = [
    ("5", _l("5: excellent")),
    ("4", _l("4: good")),
    ("3", _l("3: fair")),
    ("2", _l("2: poor")),
    ("1", _l("1: very poor")),
]


def _choices(labels: dict | list) -> list[tuple[Any, Any]]:
    pairs = labels.items() if isinstance(labels, dict) else labels
    return [(value, label) for value, label in pairs]


def with_submission_token(form: FlaskForm) -> FlaskForm:
    """Give a new form a one-time token so a double submit is recognised."""
    if not form.submission.data:
        form.submission.data = uuid.uuid4().hex
    return form


class NewFeedbackForm(FlaskForm):
    kind = RadioField(
        _l("What is it about?"),
        choices=_choices(KIND_LABELS),
        default="complaint",
        validators=[InputRequired()],
    )
    order = SelectField(_l("Order (optional)"), choices=[], default="")
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    message = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=10_000)])
    attachments = MultipleFileField(_l("Attachments (optional)"))
    submission = HiddenField()
    submit = SubmitField(_l("Send"))

    checked_uploads: list[CheckedUpload]

    def validate_attachments(self, field: MultipleFileField) -> None:
        """At most five images or PDFs of 5 MB each, recognised by their content."""
        self.checked_uploads = []
        uploads = [f for f in (field.data or []) if getattr(f, "filename", "")]
        if len(uploads) > MAX_ATTACHMENTS:
            raise ValidationError(_l("Attach at most %(count)d files.", count=MAX_ATTACHMENTS))
        messages = {
            "too_large": _l("%(name)s is larger than %(size)s MB."),
            "empty": _l("%(name)s is empty."),
            "wrong_type": _l("%(name)s is not an image or a PDF."),
        }
        for upload in uploads:
            try:
                self.checked_uploads.append(check_upload(upload))
            except UploadRejected as error:
                name = secure_filename(upload.filename or "") or "file"
                size = format_decimal(max_bytes() / 1024 / 1024, format="#,##0.##")
                raise ValidationError(str(messages[str(error)]) % {"name": name, "size": size})


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(), Length(max=10_000)])
    submission = HiddenField()
    submit = SubmitField(_l("Send reply"))


class EscalateForm(FlaskForm):
    submit = SubmitField(_l("Escalate"))


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("What is still wrong?"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Reopen"))


class RateForm(FlaskForm):
    rating = RadioField(
        _l("How did we handle it?"), choices=_choices(RATING_CHOICES), validators=[InputRequired()]
    )
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Send rating"))


# --- staff ----------------------------------------------------------------------------------


class StaffReplyForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=10_000)])
    internal = BooleanField(_l("Internal note (never shown to the customer)"))
    wait = BooleanField(_l("Wait for the customer's answer (pauses the clock)"))
    submission = HiddenField()
    submit = SubmitField(_l("Post"))


class AssignForm(FlaskForm):
    assignee = IntegerSelectField(_l("Assignee"), choices=[])
    submit = SubmitField(_l("Assign"))


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[])
    submit = SubmitField(_l("Change status"))


class PriorityForm(FlaskForm):
    priority = SelectField(_l("Priority"), choices=_choices(PRIORITY_LABELS))
    submit = SubmitField(_l("Change priority"))


class RerouteForm(FlaskForm):
    department = IntegerSelectField(_l("Department"), choices=[], validators=[InputRequired()])
    reason = StringField(
        _l("Reason for the re-route"), validators=[DataRequired(), Length(max=500)]
    )
    submit = SubmitField(_l("Re-route"))


class ResolveForm(FlaskForm):
    root_cause = IntegerSelectField(_l("Root cause"), choices=[], validators=[InputRequired()])
    what_went_wrong = TextAreaField(
        _l("What went wrong"), validators=[DataRequired(), Length(max=5000)]
    )
    how_resolved = TextAreaField(
        _l("How it was resolved"), validators=[DataRequired(), Length(max=5000)]
    )
    prevention = TextAreaField(
        _l("How to prevent it happening again"), validators=[DataRequired(), Length(max=5000)]
    )
    submit = SubmitField(_l("Resolve"))


class BulkAssignForm(FlaskForm):
    assignee = IntegerSelectField(_l("Assign selected to"), choices=[])
    submit = SubmitField(_l("Assign selected"))


def language_choices() -> list[tuple[str, str]]:
    return list(current_app.config["LANGUAGES"].items())


class RuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kinds = SelectMultipleField(_l("Kinds (none = any)"), choices=_choices(KIND_LABELS))
    keywords = TextAreaField(
        _l("Keywords in subject or message (comma-separated; none = any)"),
        validators=[Optional(), Length(max=2000)],
    )
    order_statuses = SelectMultipleField(
        _l("Linked order status (none = any)"), choices=_choices([(s, s) for s in ORDER_STATUSES])
    )
    segments = SelectMultipleField(
        _l("Customer segment (none = any)"), choices=_choices(SEGMENT_LABELS)
    )
    languages = SelectMultipleField(_l("Language (none = any)"), choices=[])
    department_id = IntegerSelectField(_l("Department"), choices=[], validators=[InputRequired()])
    priority = SelectField(_l("Priority"), choices=_choices(PRIORITY_LABELS), default="normal")
    enabled = BooleanField(_l("Enabled"), default=True)
    submit = SubmitField(_l("Save rule"))


class RuleTestForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS), default="complaint")
    subject = StringField(_l("Subject"), validators=[Optional(), Length(max=200)])
    message = TextAreaField(_l("Sample text"), validators=[DataRequired(), Length(max=5000)])
    order_status = SelectField(
        _l("Order status"),
        choices=_choices([("", "—")] + [(s, s) for s in ORDER_STATUSES]),
        default="",
    )
    segment = SelectField(
        _l("Segment"), choices=_choices([("", "—"), *SEGMENT_LABELS.items()]), default=""
    )
    language = SelectField(_l("Language"), choices=[])
    submit = SubmitField(_l("Test"))


class ActionForm(FlaskForm):
    """A bare POST with CSRF: enable/disable, move, delete."""

    submit = SubmitField(_l("Go"))


class DepartmentForm(FlaskForm):
    manager_email = StringField(
        _l("Manager's e-mail (breaches are sent here)"),
        validators=[Optional(), Email(), Length(max=255)],
    )
    submit = SubmitField(_l("Save"))


for _priority in PRIORITIES:
    setattr(
        DepartmentForm,
        f"{_priority}_first",
        IntegerField(
            _l("First response (hours)"), validators=[InputRequired(), NumberRange(1, 24 * 60)]
        ),
    )
    setattr(
        DepartmentForm,
        f"{_priority}_resolution",
        IntegerField(
            _l("Resolution (hours)"), validators=[InputRequired(), NumberRange(1, 24 * 90)]
        ),
    )


class RootCauseForm(FlaskForm):
    name = StringField(_l("New root cause"), validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(_l("Add"))


__all__ = ["KINDS", "SEGMENTS", "STATUSES"]


class PublishSolutionForm(FlaskForm):
    answer = TextAreaField(
        _l("Answer to publish in the community topic"),
        validators=[DataRequired(), Length(max=10000)],
    )
    submit = SubmitField(_l("Publish as the official answer"))
