"""Verifiable rewards: grading model answers against references, safely and with a time bound."""

from creditzoo.verify.math_verifier import MathVerifier
from creditzoo.verify.result import VerifyResult, VerifyStatus

__all__ = ["MathVerifier", "VerifyResult", "VerifyStatus"]
