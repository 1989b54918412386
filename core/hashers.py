"""Password hashing: Argon2id at OWASP's recommended minimum (19 MiB, 2 passes,
1 lane) instead of Django's heavier default (100 MiB, 8 lanes).

On a 2-core server Django's default costs tens of milliseconds of CPU and
100 MiB per login, and a crowd logging in at the end of an enrollment window
blocks every web worker (measured by `make loadtest`). These parameters keep
Argon2id's memory hardness. Existing hashes are upgraded on the next login.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class PortalArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
