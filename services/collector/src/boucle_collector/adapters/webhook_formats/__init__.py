"""One adapter per survey platform's webhook: verify its signature, parse its payload.

Each module exposes ``verify(delivery, secrets)`` (raises :class:`SignatureError`) and
``parse(document)`` returning a :class:`PlatformResponse`, or ``None`` for deliveries that
carry no response (other event types, tests). SurveyMonkey, whose callbacks carry ids only,
also fetches the response (see :mod:`.surveymonkey`).
"""
