"""Imports every table module so that ``Base.metadata`` knows the whole schema."""

from wuye.adapters.alarms import models as alarms_models  # noqa: F401
from wuye.adapters.commands import models as commands_models  # noqa: F401
from wuye.adapters.devices import models as devices_models  # noqa: F401
from wuye.adapters.telemetry import models as telemetry_models  # noqa: F401
from wuye.federation import models as federation_models  # noqa: F401
from wuye.ledger.credit import models as credit_models  # noqa: F401
from wuye.ledger.fund import models as fund_models  # noqa: F401
from wuye.ledger.votes import models as votes_models  # noqa: F401
from wuye.openapi.adapters import models as adapters_models  # noqa: F401
from wuye.platform.bills import models as bills_models  # noqa: F401
from wuye.platform.estates import models as estates_models  # noqa: F401
from wuye.platform.owners import models as owners_models  # noqa: F401
from wuye.platform.staff import models as staff_models  # noqa: F401
from wuye.platform.workorders import models as workorders_models  # noqa: F401
from wuye.sandbox import models as sandbox_models  # noqa: F401
