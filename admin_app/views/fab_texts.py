"""Flask-AppBuilder's own strings whose Dutch we keep in our catalog: its Dutch catalog
lacks them (the list's "Show"/"Edit"/"Delete", "List Groups", ...) or has them wrong
("Akties", "Voornam", German). Never imported: listed so that `make translations-update`
(pybabel extract + update) keeps them, as it drops every msgid the code does not hold."""

from flask_babel import lazy_gettext as _l

FAB_TEXTS = (
    _l("Add"),
    _l("Add Group"),
    _l("Are you sure you want to delete this item?"),
    _l("Audit Info"),
    _l("Contains (insensitive)"),
    _l("Database Error"),
    _l("Delete"),
    _l("Detail"),
    _l("Edit"),
    _l("Edit Group"),
    _l("Edit User Information"),
    _l("Either select a role or a group"),
    _l("Groups"),
    _l("In"),
    _l("List Groups"),
    _l(
        "Must have at least two capital letters, one special character, two digits, three "
        "lower case letters and a minimal length of 10."
    ),
    _l("Not In"),
    _l("Not a valid choice"),
    _l("Select Value"),
    _l("Show"),
    _l("Show Group"),
    _l("Sign In with "),
    _l("Start with"),
    _l("The user's password for authentication"),
    _l("User information changed"),
    _l("User(s) exists in the group, cannot delete"),
    _l("User(s) exists in the role, cannot delete"),
    _l("Actions"),
    _l("Is Active?"),
    _l("First Name"),
    _l("Created by"),
    _l("Changed by"),
    _l("Changed on"),
    _l("Fill out the registration form"),
    _l("Sum of"),
    _l("Avg. of"),
    _l("Page size"),
    _l("List Base Permissions"),
    _l("List Roles"),
    _l("List Users"),
    _l("User Registrations"),
    _l("Registration sent to your email"),
    _l("Please use a good password policy, this application does not check this for you"),
    _l("User confirmation needed"),
    _l("Show User"),
    _l("Add User"),
    _l("Edit User"),
    # FAB's Dutch says "Visie" (vision) for a view.
    _l("List View Menus"),
    _l("Show View Menu"),
    _l("Add View Menu"),
    _l("Edit View Menu"),
    _l("List Permissions on Views/Menus"),
    _l("Show Permission on Views/Menus"),
    _l("Add Permission on Views/Menus"),
    _l("Edit Permission on Views/Menus"),
    _l("View/Menu"),
    _l("Confirm Password"),
    # A list's filters: FAB's Dutch says "Eindig niet met" and "Bevat Niet".
    _l("Not Ends with"),
    _l("Not Contains"),
)
