"""The JSON API (django-ninja): evaluate, describe a policy, and the OpenAPI document."""

from ninja import NinjaAPI

api = NinjaAPI(title="Eligibility wizard API", version="1", urls_namespace="api")
