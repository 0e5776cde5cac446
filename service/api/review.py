"""POST /v1/review (placeholder until verifier.diff lands)."""
from fastapi import APIRouter
router = APIRouter(prefix="/v1", tags=["review"])
def render_review(doc, fmt):
    raise NotImplementedError
