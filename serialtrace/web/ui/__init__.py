"""The server-rendered pages, one module per domain: station, trace (units, batches, import), labels, account, admin."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register the page blueprints on `app`."""
    from .. import navigation

    # Imported for their views on the pages blueprint (a long line: a wrapped one would need its own noqa).
    from . import account, admin, bench, claims, codes, common, labels, lots, procedure, scanlog, station, trace  # noqa: F401
    from . import knowledge as knowledge_pages  # noqa: F401
    from . import worklist as worklist_pages  # noqa: F401

    app.register_blueprint(account.bp)
    # Registered on the admin and pages blueprints, before those are.
    from . import admin_customers, admin_security, notifications, reports  # noqa: F401
    from . import eightd as eightd_pages  # noqa: F401
    from . import quality as quality_pages  # noqa: F401
    from . import quality_compare as quality_compare_pages  # noqa: F401
    from . import quality_drilldown as quality_drilldown_pages  # noqa: F401
    from . import quality_field as quality_field_pages  # noqa: F401
    from . import quality_sla as quality_sla_pages  # noqa: F401
    from . import recalls as recall_pages  # noqa: F401
    app.register_blueprint(admin.bp)
    app.register_blueprint(common.bp)
    app.register_blueprint(labels.bp)
    from . import survey_page  # the customer's survey link: no login

    app.register_blueprint(survey_page.bp)
    navigation.install(app)
    notifications.install(app)
