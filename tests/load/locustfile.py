"""Mixed citizen traffic for the load run (see tests/load/run.py): each user logs
in as one seeded citizen, then looks at their coverage and history, quotes and
pays (many in the same seconds), pays for someone else (代缴), applies for a
transfer if they are ready to, and polls the status of what they started.

Expected refusals are not errors: a period already paid or with a payment in
flight (409/400 with the reason on the page) is the right answer when many pay
for the same person at once."""

import json
import os
import random
import re
import threading

from locust import HttpUser, between, task

CITIZENS = json.loads(open(os.environ["LOAD_CITIZENS"], encoding="utf-8").read())
_next = iter(range(10**9))
_lock = threading.Lock()
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
QUOTE = re.compile(r'name="quote" value="([^"]+)"')  # the signed quote
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHANNELS = ("app", "wechat", "alipay", "bank")
LOGIN_EVERY = int(os.environ.get("LOAD_LOGIN_EVERY", "10"))


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    return found.group(1) if found else ""


class Citizen(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self):
        with _lock:
            n = next(_next)
            self.me = CITIZENS[n % len(CITIZENS)]
        self.payments = []
        self.transfer = None
        if self.me.get("session") and n % LOGIN_EVERY:
            # Signed in earlier (the session a login left); one user in LOGIN_EVERY logs in now.
            self.client.cookies.set("sessionid", self.me["session"])
            return
        page = self.client.get("/login/", name="/login/ [GET]")
        with self.client.post(
            "/login/",
            {
                "username": self.me["username"],
                "password": self.me["password"],
                "csrfmiddlewaretoken": csrf_of(page.text),
            },
            name="/login/ [POST]",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login refused: {response.status_code}")

    @task(3)
    def coverage(self):
        self.client.get("/enrollment/coverage/", name="coverage")

    @task(3)
    def history(self):
        self.client.get("/payments/", name="history")

    def _pay(self, enrollment_id, label):
        if enrollment_id is None:
            return
        with self.client.get(
            f"/payments/pay/{enrollment_id}/",
            name=f"{label} quote",
            catch_response=True,
        ) as page:
            if page.status_code == 409 and "已" in page.text:
                page.success()  # already paid or in flight: the page says so and offers no form
                return
            if page.status_code != 200:
                page.failure(f"quote answered {page.status_code}")
                return
        key, quote = KEY.search(page.text), QUOTE.search(page.text)
        if not key or not quote:
            return
        with self.client.post(
            f"/payments/pay/{enrollment_id}/",
            {
                "channel": random.choice(CHANNELS),
                "idempotency_key": key.group(1),
                "months": 1,
                "quote": quote.group(1),
                "csrfmiddlewaretoken": csrf_of(page.text),
            },
            name=f"{label} confirm",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                match = re.search(
                    r"/payments/p/(\d+)/", response.headers.get("Location", "")
                )
                if match:
                    self.payments.append(int(match.group(1)))
                response.success()
            elif response.status_code in (400, 409) and "已" in response.text:
                response.success()  # paid or in flight meanwhile (someone else paid for them): the right answer
            else:
                response.failure(f"pay answered {response.status_code}")

    @task(4)
    def pay_own(self):
        self._pay(self.me["enrollment_id"], "pay")

    @task(1)
    def pay_for_someone(self):
        other = random.choice([c for c in CITIZENS if c["enrollment_id"]])
        page = self.client.get("/payments/proxy/", name="proxy form")
        with self.client.post(
            "/payments/proxy/",
            {
                "id_number": other["id_number"],
                "name": other["name"],
                "year": 2027,
                "csrfmiddlewaretoken": csrf_of(page.text),
            },
            name="proxy lookup",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                response.success()
            else:
                response.failure(f"proxy lookup answered {response.status_code}")
                return
        self._pay(other["enrollment_id"], "proxy pay")

    @task(4)
    def poll(self):
        if self.payments:
            self.client.get(
                f"/payments/p/{random.choice(self.payments)}/status/",
                name="payment status",
            )
        if self.transfer:
            self.client.get(
                f"/transfers/{self.transfer}/status.json", name="transfer status"
            )

    @task(1)
    def apply_transfer(self):
        if not self.me["mover"] or self.transfer:
            return
        page = self.client.get("/transfers/apply/", name="transfer form")
        data = {
            "person": str(self.me["person_id"]),
            "name": self.me["name"],
            "id_number": self.me["id_number"],
            "kind": "e2e",
            "outgoing_region": "340100",
            "incoming_region": "110000",
            "csrfmiddlewaretoken": csrf_of(page.text),
        }
        self.client.post("/transfers/apply/", data, name="transfer check")
        with self.client.post(
            "/transfers/apply/",
            {**data, "confirm": "1"},
            name="transfer confirm",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            match = re.search(
                r"/transfers/(\d+)/", response.headers.get("Location", "")
            )
            if response.status_code == 302 and match:
                self.transfer = int(match.group(1))
                response.success()
            elif response.status_code == 400 and "已有" in response.text:
                response.success()  # applied already (a second user on the same citizen)
            else:
                response.failure(f"transfer apply answered {response.status_code}")
