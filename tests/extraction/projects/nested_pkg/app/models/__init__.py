from app.models.registry import MODEL_NAMES as NAMES
