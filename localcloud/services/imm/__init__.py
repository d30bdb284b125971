"""localcloud's IMM: media conversion tasks (audio merging and transcoding) on localcloud's OSS."""

from localcloud.services.imm.service import ImmService

__all__ = ["ImmService"]
