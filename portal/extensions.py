"""Extension objects, created unbound; ``create_app`` initialises them."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from portal.core.db import Base
from portal.core.headers import KeptHeadersTalisman

db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
mail = Mail()
babel = Babel()
security = Security()
talisman = KeptHeadersTalisman()
limiter = Limiter(key_func=get_remote_address)
