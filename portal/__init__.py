"""The portal application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

from config import Config, ProductionConfig, config_by_name


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, CLI, error pages."""
    config_name = (
        config_name
        or os.environ.get("PORTAL_CONFIG")
        or os.environ.get("FLASK_CONFIG", "development")
    )
    config_class: type[Config] = config_by_name[config_name]
    app = Flask(__name__, instance_path=config_class.INSTANCE_DIR, instance_relative_config=False)
    app.config.from_object(config_class)
    if overrides:
        app.config.update(overrides)
    if config_class is ProductionConfig or app.config.get("ENFORCE_PRODUCTION_CHECKS"):
        check_production_config(app.config)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from portal.core.errors import register_error_handlers
    from portal.core.setup import register_blueprints, register_cli, register_extensions
    from portal.core.static import register_static_files
    from portal.core.web import register_request_hooks

    register_extensions(app)
    register_request_hooks(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_cli(app)
    register_static_files(app)
    return app


def check_production_config(config: dict[str, Any]) -> None:
    """Refuse to run in production with placeholder secrets."""
    from config import DEFAULT_SECRET_KEY

    secret = config.get("SECRET_KEY")
    if not secret or secret == DEFAULT_SECRET_KEY or len(str(secret)) < 16:
        raise RuntimeError("SECRET_KEY must be set to a unique random value in production.")
    if config.get("SECURITY_PASSWORD_SALT") in (None, "", "portal-password-salt"):
        raise RuntimeError("SECURITY_PASSWORD_SALT must be set in production.")
    if config.get("SECURITY_TOTP_SECRETS", {}).get("1") in (None, "", "portal-totp-dev-secret"):
        raise RuntimeError("TOTP_SECRET must be set in production.")
