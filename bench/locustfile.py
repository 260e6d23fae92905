"""Load test (issue 8): staff and fleet managers clicking through the console.

Run by bench/load.py: 50 users, 1–3 s think time, 60 s, against gunicorn with 2 workers on
the seeded PostgreSQL, loopback only. Each user logs in once as one of the demo logins and
then opens lists, searches and profiles as people at a garage counter do.
"""

from __future__ import annotations

import random
import re

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LOGINS = ["garage-jansen", "garage-devries", "fleet-bakker", "support"]
SEARCHES = ["ab-123-c", "Achternaam12", "bestuurder12345", "eigenaar17-1000@scale.example"]


class ConsoleUser(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        self.username = random.choice(LOGINS)
        page = self.client.get("/login/", name="/login/")
        token = CSRF.search(page.text).group(1)
        self.client.post(
            "/login/",
            data={"username": self.username, "password": "demo", "csrf_token": token},
            name="/login/ (post)",
        )

    @task(4)
    def passport_list(self):
        if self.username == "fleet-bakker":
            self.client.get("/my-fleet/list/", name="/my-fleet/list/")
        else:
            page = random.randint(0, 20)
            self.client.get(
                f"/passports/list/?page_PassportView={page}", name="/passports/list/?page"
            )

    @task(3)
    def search(self):
        if self.username == "fleet-bakker":
            self.client.get("/my-fleet/list/", name="/my-fleet/list/")
            return
        text = random.choice(SEARCHES)
        self.client.get(f"/passports/list/?_flt_0_plate={text}", name="/passports/list/?search")

    @task(2)
    def customers(self):
        if self.username in ("garage-jansen", "garage-devries", "support"):
            name = f"Achternaam{random.randint(100, 4999)}"  # a name someone gives at the desk
            self.client.get(
                f"/customers/list/?_flt_0_last_name={name}", name="/customers/list/?name"
            )

    @task(1)
    def home(self):
        self.client.get("/", name="/")
