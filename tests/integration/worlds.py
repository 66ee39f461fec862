"""Fixture worlds for the fake AccessOwl: people with access states."""
from harness import uuid

# What every host files a state with (helper/reason.h, AO_REASON_FLEET)
FLEET_REASON = ("The person's Linux account was locked, expired or deleted "
                "(pam_accessowl)")

APP = uuid("app-people")


def person_states(name, active=2):
    return [uuid(f"{name}-state-{i}") for i in range(active)]


def people(*names, active=2):
    """Each name is a person <name>@example.com with `active` active
    states and one ended one."""
    users, states = [], []
    for n in names:
        uid = uuid(f"person-{n}")
        users.append({"id": uid, "email": f"{n}@example.com",
                      "status": "active"})
        for sid in person_states(n, active):
            states.append({"id": sid, "application_id": APP,
                           "grantee_user_id": uid, "effective_end": None})
        states.append({"id": uuid(f"{n}-ended"), "application_id": APP,
                       "grantee_user_id": uid,
                       "effective_end": "2024-01-01T00:00:00Z"})
    return {"users": users, "access_states": states,
            "applications": [{"id": APP, "title": "Wiki"}]}


def filed_for(fake, name):
    """Revocations the fake holds for a person's states."""
    mine = set(person_states(name, 50))
    return [r for r in fake.revocations() if r["access_state_id"] in mine]
