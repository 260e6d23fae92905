import logging
import re
from logging.config import fileConfig

from alembic import context
from flask import current_app

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# Not when the console's JSON logging is installed (issue 17): fileConfig would replace its
# handler, whose filter keeps tokens out of the log, and silence every logger made before.
if not any(getattr(h, "console_json", False) for h in logging.getLogger().handlers):
    fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")


def get_engine():
    try:
        # this works with Flask-SQLAlchemy<3 and Alchemical
        return current_app.extensions["migrate"].db.get_engine()
    except (TypeError, AttributeError):
        # this works with Flask-SQLAlchemy>=3
        return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    # Our models and FAB's ab_* tables live on flask_appbuilder.Model.metadata, not on
    # db.metadata: targeting the latter would propose dropping every table.
    from flask_appbuilder import Model

    import admin_app.models  # noqa: F401  (registers every table)

    return Model.metadata


# Indexes only PostgreSQL has (0007: plate-prefix and name-prefix search; 0029: the
# search copy's trigrams, 0007's and 0013's before), made by their migration, not declared
# on the models: autogenerate must not propose dropping them.
POSTGRESQL_ONLY_INDEXES = {
    "ix_passport_plate_prefix",
    "ix_customer_garage_last_name_prefix",
    "ix_customer_search_last_name_trgm",
    "ix_customer_search_email_trgm",
    "ix_passport_search_plate_trgm",
}


# The register's partitions on PostgreSQL (0026): one per generation, made and dropped by
# the import, and the default one; the models declare only the partitioned table.
REGISTER_PARTITION = re.compile(r"^register_(vehicle|fuel)_(default|g[0-9]+)$")


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table" and reflected and REGISTER_PARTITION.match(name):
        return False
    return not (type_ == "index" and reflected and name in POSTGRESQL_ONLY_INDEXES)


def render_item(type_, obj, autogen_context):
    """Render our TypeDecorators as their plain column types: a migration must not
    import application code that may change after it was written."""
    from sqlalchemy.types import TypeDecorator

    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            render_item=render_item,
            include_object=include_object,
            **conf_args,
        )

        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
