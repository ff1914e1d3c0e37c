"""Every table the migrations manage: importing this registers them all on ``Base.metadata``."""

from hotline.accounts import models as accounts_models  # noqa: F401
from hotline.analytics import hotspot_store  # noqa: F401
from hotline.analytics import models as analytics_models  # noqa: F401
from hotline.assist import models as assist_models  # noqa: F401
from hotline.callbacks import models as callbacks_models  # noqa: F401
from hotline.directory import models as directory_models  # noqa: F401
from hotline.employment import models as employment_models  # noqa: F401
from hotline.fieldwork import models as fieldwork_models  # noqa: F401
from hotline.importing import models as importing_models  # noqa: F401
from hotline.incidents import models as incidents_models  # noqa: F401
from hotline.kit import ratelimit  # noqa: F401
from hotline.kit.db import Base
from hotline.knowledge import models as knowledge_models  # noqa: F401
from hotline.notify import models as notify_models  # noqa: F401
from hotline.reports import models as reports_models  # noqa: F401
from hotline.supervision import models as supervision_models  # noqa: F401
from hotline.tickets import idempotency as tickets_idempotency  # noqa: F401
from hotline.tickets import models as tickets_models  # noqa: F401

metadata = Base.metadata
