"""clinic-playbook: diagnose, prescribe, execute and evaluate a dental clinic from its own exports."""
from .clinic import Clinic, load_clinic
from .config import ClinicConfig, read_config
from .audit import AuditResult, audit
from .errors import PlaybookError

__all__ = ["AuditResult", "audit", "Clinic", "ClinicConfig", "PlaybookError", "load_clinic", "read_config"]
__version__ = "0.1.0"
