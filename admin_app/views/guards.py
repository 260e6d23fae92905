"""Guards for FAB endpoints we do not write ourselves (its security screens included)."""

from __future__ import annotations

from flask import Flask, abort, request


def register_guards(app: Flask, appbuilder) -> None:
    views = {view.__class__.__name__: view for view in appbuilder.baseviews}

    @app.before_request
    def refuse_unknown_or_foreign_actions():
        """FAB's action endpoints look the action up without checking that it exists (a
        500 for a made-up name) and hand the handler whatever row the pk names. Answer
        404 unless the action exists and the row is within the caller's scope."""
        endpoint = request.endpoint or ""
        if not endpoint.endswith((".action", ".action_post")):
            return None
        view = views.get(endpoint.split(".")[0])
        args = request.view_args or {}
        name = args.get("name") or request.form.get("action")
        if view is None or name not in (getattr(view, "actions", None) or {}):
            abort(404)
        pks = [args["pk"]] if "pk" in args else request.form.getlist("rowid")
        for pk in pks:
            if view.datamodel.get(view._deserialize_pk_if_composite(pk)) is None:
                abort(404)
        return None
