"""The OrcaRouter wire vocabulary, in one place.

Paths, enum values, limits and numbers of the Seedance Assets API (``/v1/asset``) and the
Seedance video API, as ``shared/orcarouter-api.md`` records them. Both sides import this module:
the client (what it sends and accepts) and the sandbox (what it serves).

Where the reference is silent (its GUESS facts) the choice made here is marked ``GUESS`` and is the
one the sandbox serves; the client must still tolerate the other plausible shapes.

Provenance tags on each line (the reference's legend, section 0 and 12): ``DOC`` stated by
docs.orcarouter.ai (``DOC-other``: on a page about another model sharing the endpoint), ``ARK``
upstream Ark's API, ``NEWAPI`` the open-source new-api gateway OrcaRouter is built like, ``PEER``
another gateway or client of the same upstream, ``GUESS`` no source. A person who learns the real
answer changes the one line that carries the tag.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

# --------------------------------------------------------------------------- connection
DEFAULT_BASE_URL: Final = "https://api.orcarouter.ai/v1"  # DOC get-api-key
API_KEY_ENV: Final = "ORCAROUTER_API_KEY"
BASE_URL_ENV: Final = "ORCAROUTER_BASE_URL"
#: The one name of orca_nb's directory in the user's data dir (``~/.local/share/orca-nb``).
DATA_DIR_NAME: Final = "orca-nb"
_LEGACY_DATA_DIR_NAMES: Final = ("orca_nb",)  # where the ledger and experiments lived before


def data_file(name: str) -> Path:
    """``name`` in orca_nb's user data directory (:data:`DATA_DIR_NAME`).

    A file written under an older spelling of the directory and not yet present in this one is
    used where it is, so nothing recorded before is left behind.
    """
    import platformdirs

    path = platformdirs.user_data_path(DATA_DIR_NAME) / name
    if not path.exists():
        for old in _LEGACY_DATA_DIR_NAMES:
            legacy = platformdirs.user_data_path(old) / name
            if legacy.exists():
                return legacy
    return path


KEY_PREFIX: Final = "sk-orca-"  # DOC: every key is ``sk-orca-...``
SANDBOX_KEY_PREFIX: Final = "sk-orca-sandbox-"  # sandbox accounts; never valid upstream
DEFAULT_SANDBOX_KEY: Final = "sk-orca-sandbox-demo"  # the embedded sandbox's demo account
#: Query parameters that make a link a bearer secret (a signed download URL's signature,
#: credential or token): scrubbed from logs, reprs and the ledger. TOS/S3 presigned names
#: (ARK: result and asset URLs are TOS presigned links) and the common generic ones. GUESS
#: for any other signer.
SECRET_QUERY_PARAMS: Final = re.compile(
    r"(?i)(?<=[?&])(x-(?:tos|amz)-(?:signature|credential|security-token)|signature|sig|token"
    r"|access_token)=[^&#\s\"'<>]*"
)


def strip_secret_params(text: str) -> str:
    """``text`` with the value of every signature/credential/token query parameter in it
    replaced by ``redacted`` (the rest of each URL is kept)."""
    return SECRET_QUERY_PARAMS.sub(lambda m: m.group(1) + "=redacted", text)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (``127.0.0.0/8``, ``::1``, bracketed or
    not): the one definition of "loopback" (sandbox fetches, keyless sandbox URLs, proxies)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------- paths, under /v1
GROUPS_PATH: Final = "/asset/groups"  # DOC (POST create, GET list)
GROUP_PATH: Final = "/asset/groups/{group_id}"  # GUESS: GET, PATCH (PUT also served), DELETE
ASSETS_PATH: Final = "/asset/files"  # DOC (POST upload, GET list)
ASSET_PATH: Final = "/asset/files/{asset_id}"  # DOC GET; GUESS DELETE
SESSIONS_PATH: Final = "/asset/real-human/sessions"  # DOC POST
SESSION_PATH: Final = "/asset/real-human/sessions/{session_id}"  # GUESS GET
VIDEOS_PATH: Final = "/video/generations"  # DOC POST
VIDEO_PATH: Final = "/video/generations/{task_id}"  # DOC path; DOC-other wrapped reply (12.1)
OPENAI_VIDEOS_PATH: Final = "/videos"  # DOC-other (12.2): POST alias, same body
OPENAI_VIDEO_PATH: Final = "/videos/{task_id}"  # DOC-other (12.2): OpenAI video object + usage
MODELS_PATH: Final = "/models"  # PEER (12.5): OpenAI list shape
BILLING_SUBSCRIPTION_PATH: Final = "/dashboard/billing/subscription"  # DOC billing (12.4)
BILLING_USAGE_PATH: Final = "/dashboard/billing/usage"  # DOC billing (12.4)

# --------------------------------------------------------------------------- enums
GroupType = Literal["AIGC", "LivenessFace"]  # on output (ARK)
GroupTypeQuery = Literal["aigc", "real_human"]  # query parameter (DOC)
GROUP_TYPE_QUERY_TO_WIRE: Final[dict[str, str]] = {"aigc": "AIGC", "real_human": "LivenessFace"}
#: The group types as replies name them (``GroupType``) and as list queries ask for them.
GROUP_TYPES: Final[tuple[str, ...]] = tuple(GROUP_TYPE_QUERY_TO_WIRE.values())
GROUP_TYPE_QUERIES: Final[tuple[GroupTypeQuery, ...]] = ("aigc", "real_human")
DEFAULT_LIST_GROUP_TYPE: Final = "real_human"  # DOC: lists default to real-human groups!
#: The one vocabulary for group types shown to users (the studio, the DataFrames, the reports):
#: values are the service's ``GroupType`` words; this table gives the DOC's name of each library,
#: shown beside the value by :func:`group_type_label`.
GROUP_TYPE_NAMES: Final[dict[str, str]] = {"AIGC": "virtual", "LivenessFace": "real-human"}


def group_type_label(group_type: str) -> str:
    """``virtual (AIGC)`` / ``real-human (LivenessFace)``; a type we do not know, as given."""
    name = GROUP_TYPE_NAMES.get(group_type)
    return f"{name} ({group_type})" if name else group_type


AssetType = Literal["Image", "Video", "Audio"]
ASSET_TYPES: Final = ("Image", "Video", "Audio")
AssetStatus = Literal["Processing", "Active", "Failed"]
ASSET_STATUSES: Final = ("Processing", "Active", "Failed")
GROUP_SORT_BY: Final = ("CreateTime", "UpdateTime")
ASSET_SORT_BY: Final = ("CreateTime", "UpdateTime", "GroupId")
SORT_ORDERS: Final = ("Desc", "Asc")
DEFAULT_SORT_BY: Final = "CreateTime"
DEFAULT_SORT_ORDER: Final = "Desc"
MODERATION_STRATEGIES: Final = ("Default", "Skip")
SessionStatus = Literal["pending", "success", "failed", "expired"]  # orca_nb's own vocabulary
SESSION_STATUSES: Final = ("pending", "success", "failed", "expired")
# Every session status word seen for the same upstream flow (PEER 12.6; "pending" DOC), mapped to
# the vocabulary above. A word not listed here reads as "pending" (GUESS: still in progress).
SESSION_STATUS_WORDS: Final[dict[str, str]] = {
    "pending": "pending",  # DOC
    "processing": "pending",  # PEER
    "in_progress": "pending",  # PEER
    "created": "pending",  # GUESS
    "verified": "success",  # PEER
    "succeeded": "success",  # PEER
    "success": "success",  # PEER (and the sandbox's word)
    "completed": "success",  # PEER
    "done": "success",  # GUESS
    "failed": "failed",  # PEER
    "failure": "failed",  # PEER
    "rejected": "failed",  # GUESS
    "expired": "expired",  # PEER
    "timeout": "expired",  # GUESS
}
SESSION_RESULT_CODE_SUCCESS: Final = "10000"  # PEER: ``result_code`` "10000" = verified
TaskStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "expired"]  # ARK
TASK_STATUSES: Final = ("queued", "running", "succeeded", "failed", "cancelled", "expired")
TERMINAL_TASK_STATUSES: Final = frozenset({"succeeded", "failed", "cancelled", "expired"})
# How the sandbox answers GET /video/generations/{id}; the client accepts all three.
# DOC-other (12.1): the documented reply is the new-api wrapper, usually without the inner object.
TaskShape = Literal["ark", "newapi", "openai"]
TASK_SHAPES: Final = ("ark", "newapi", "openai")
# new-api's task status words (NEWAPI 8.3a) -> the wire's TaskStatus.
NEWAPI_TASK_STATUSES: Final[dict[str, str]] = {
    "NOT_START": "queued",
    "SUBMITTED": "queued",
    "QUEUED": "queued",
    "IN_PROGRESS": "running",
    "SUCCESS": "succeeded",
    "FAILURE": "failed",
    "UNKNOWN": "running",
}
# Which route the client reads a task from. "generations": GET /video/generations/{id} (DOC path,
# DOC-other wrapped reply); "openai": GET /videos/{id} (DOC-other alias, carries usage). The
# client's default is "generations" (the documented fetch for Seedance), then ONE read of the
# alias when a task has succeeded without usage (12.2: the alias is the only documented way to
# read usage back). GUESS: change DEFAULT_TASK_API / USAGE_FROM_ALIAS if the real service differs.
TaskApi = Literal["generations", "openai"]
TASK_APIS: Final = ("generations", "openai")
DEFAULT_TASK_API: Final[TaskApi] = "generations"  # GUESS (see above)
USAGE_FROM_ALIAS: Final = True  # GUESS: read usage from /videos/{id} when the fetch has none

# --------------------------------------------------------------------------- limits
DEFAULT_PAGE_SIZE: Final = 10  # DOC
MAX_PAGE_SIZE: Final = 100  # ARK (OrcaRouter max not documented)
NAME_MAX_CHARS: Final = 64  # DOC (groups), ARK (assets)
DESCRIPTION_MAX_CHARS: Final = 300  # DOC
DEFAULT_ASSET_CAP: Final = 100  # DOC: uploads past the cap get 403
SIGNED_URL_TTL_SECONDS: Final = 43_200  # DOC ~12 h; upstream X-Tos-Expires=43200
VIDEO_URL_TTL_SECONDS: Final = 86_400  # ARK: output mp4 link valid ~24 h
SESSION_ID_CHARS: Final = 40  # DOC: ~40-char opaque token
SESSION_TTL_SECONDS: Final = 1_800  # GUESS: third parties report a 30 min token

# --------------------------------------------------------------------------- error codes
# The OpenAI-style envelope (DOC): {"error": {"message", "type", "code", "param"}}.
# Codes the sandbox uses (GUESS unless tagged); the client maps by status first, code second.
CODE_INVALID_API_KEY: Final = "invalid_api_key"  # 401
CODE_QUOTA_INSUFFICIENT: Final = "quota_insufficient"  # 402, DOC gateway code
CODE_ASSET_CAP_EXCEEDED: Final = "asset_quota_exceeded"  # 403 on upload past the cap (GUESS)
CODE_ACCESS_DENIED: Final = "AccessDenied"  # 403 permission (ARK)
CODE_LIVENESS_GROUP_ACTIVE: Final = "OperationDenied.ActiveLivenessFaceGroup"  # 403 (GUESS)
CODE_NOT_FOUND: Final = "ResourceNotFound"  # 404 (GUESS); ARK also uses AssetNotFound
CODE_INVALID_PARAMETER: Final = "InvalidParameter"  # 400 (ARK)
CODE_MODEL_NOT_FOUND: Final = "model_not_found"  # DOC example
CODE_RATE_LIMITED: Final = "rate_limit_exceeded"  # 429, DOC
CODE_TASK_NOT_EXIST: Final = "task_not_exist"  # NEWAPI (12.1): HTTP 400, means not found
CODE_INSUFFICIENT_USER_QUOTA: Final = "insufficient_user_quota"  # NEWAPI/PEER (12.3): 403 balance
# Codes that mean "the account's balance/credit is used up" whatever the HTTP status (top up).
BALANCE_CODES: Final = frozenset(
    {CODE_QUOTA_INSUFFICIENT, CODE_INSUFFICIENT_USER_QUOTA, "insufficient_quota"}  # DOC/NEWAPI
)
# Asset-level failure codes (asset ``Error.Code`` when Status is Failed).
ASSET_ERROR_DOWNLOAD_FAILED: Final = "InvalidParameter.DownloadFailed"  # ARK
ASSET_ERROR_FACE_MISMATCH: Final = "FaceMismatch"  # DOC
ASSET_ERROR_MULTIPLE_FACES: Final = "MultipleFaces"  # GUESS (ARK says such images fail)
ASSET_ERROR_NO_FACE: Final = "NoFaceDetected"  # GUESS
ASSET_ERROR_FORMAT: Final = "InvalidParameter.UnsupportedFormat"  # GUESS
ASSET_ERROR_ASPECT_RATIO: Final = "InvalidParameter.AspectRatio"  # GUESS
ASSET_ERROR_DIMENSIONS: Final = "InvalidParameter.Dimensions"  # GUESS (side px)
ASSET_ERROR_PIXELS: Final = "InvalidParameter.TotalPixels"  # GUESS (W*H)
ASSET_ERROR_DURATION: Final = "InvalidParameter.Duration"  # GUESS
ASSET_ERROR_FPS: Final = "InvalidParameter.FrameRate"  # GUESS
ASSET_ERROR_SIZE: Final = "InvalidParameter.FileSize"  # GUESS
ASSET_ERROR_CORRUPT: Final = "InvalidParameter.CorruptFile"  # GUESS
# Video-task failure codes (task ``error.code`` when status is failed). Ark names its moderation
# refusals ``{Input,Output}{Text,Image,Video,Audio}SensitiveContentDetected[.Detail]``.
TASK_ERROR_INTERNAL: Final = "InternalServiceError"  # ARK; the sandbox's render failure
TASK_ERROR_SENSITIVE_CONTENT: Final = (
    "InputTextSensitiveContentDetected",
    "InputImageSensitiveContentDetected",
    "InputVideoSensitiveContentDetected",
    "InputAudioSensitiveContentDetected",
    "OutputVideoSensitiveContentDetected",
)  # ARK
TASK_ERROR_TIMEOUT: Final = "TaskTimeout"  # GUESS: the render ran past the upstream limit
TASK_ERROR_EXPIRED: Final = "TaskExpired"  # GUESS: queued past ``execution_expires_after``


# --------------------------------------------------------------------------- media requirements
@dataclass(frozen=True)
class MediaRequirements:
    """One row of the DOC requirements table (section 3 of the reference)."""

    asset_type: str
    formats: tuple[str, ...]  # lower-case container/codec family names
    max_bytes: int
    min_ratio: float | None = None  # width / height
    max_ratio: float | None = None
    min_side: int | None = None
    max_side: int | None = None
    min_pixels: int | None = None  # width * height
    max_pixels: int | None = None
    min_seconds: float | None = None
    max_seconds: float | None = None
    min_fps: float | None = None
    max_fps: float | None = None


MB: Final = 1024 * 1024
REQUIREMENTS: Final[dict[str, MediaRequirements]] = {
    "Image": MediaRequirements(
        "Image",
        ("jpeg", "png", "webp", "bmp", "tiff", "gif", "heic", "heif"),
        max_bytes=30 * MB - 1,  # "< 30 MB"
        min_ratio=0.4,
        max_ratio=2.5,
        min_side=300,
        max_side=6000,
    ),
    "Video": MediaRequirements(
        "Video",
        ("mp4", "mov"),
        max_bytes=50 * MB,
        min_ratio=0.4,
        max_ratio=2.5,
        min_side=300,
        max_side=6000,
        min_pixels=409_600,
        max_pixels=2_086_876,
        min_seconds=2.0,
        max_seconds=15.0,
        min_fps=24.0,
        max_fps=60.0,
    ),
    "Audio": MediaRequirements(
        "Audio", ("wav", "mp3"), max_bytes=15 * MB, min_seconds=2.0, max_seconds=15.0
    ),
}

# --------------------------------------------------------------------------- video generation
SEEDANCE_2: Final = "byteplus/dreamina-seedance-2-0-260128"  # DOC: the only routable model
RATIOS: Final = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")
RESOLUTIONS: Final = ("480p", "720p", "1080p")
ROLES: Final = (
    "reference_image",
    "reference_video",
    "reference_audio",
    "first_frame",
    "last_frame",
)
CONTENT_TYPES: Final = ("text", "image_url", "video_url", "audio_url")
ASSET_URL_SCHEME: Final = "asset://"
MAX_REF_IMAGES: Final = 9
MAX_REF_VIDEOS: Final = 3
MAX_REF_AUDIO: Final = 3
MAX_MEDIA_ITEMS: Final = 12
MAX_REF_VIDEO_SECONDS: Final = 15.0
MAX_REF_AUDIO_SECONDS: Final = 15.0
SEED_MIN: Final = -1
SEED_MAX: Final = 2**32 - 1
OUTPUT_FPS: Final = 24  # ARK ``framespersecond``


@dataclass(frozen=True)
class ModelSpec:
    """What one Seedance model accepts (DOC overview table, ARK defaults)."""

    name: str
    routable: bool
    min_seconds: int
    max_seconds: int
    resolutions: tuple[str, ...]
    multimodal: Literal["full", "image"]
    first_last_frame: bool
    native_audio: bool
    default_seconds: int = 5
    default_resolution: str = "720p"
    default_ratio: str = "adaptive"
    max_ref_images: int = 9  # ARK (8.4)
    max_ref_videos: int = 3  # ARK
    max_ref_audio: int = 3  # ARK
    max_media_items: int = 12  # ARK


MODELS: Final[dict[str, ModelSpec]] = {
    m.name: m
    for m in (
        ModelSpec(SEEDANCE_2, True, 4, 15, RESOLUTIONS, "full", True, True),
        ModelSpec("byteplus/seedance-2.0-fast", False, 4, 15, ("480p", "720p"), "full", True, True),
        ModelSpec("byteplus/seedance-1-5-pro", False, 4, 12, RESOLUTIONS, "image", True, True),
        ModelSpec("byteplus/seedance-1-0-pro", False, 2, 12, RESOLUTIONS, "image", True, False),
        ModelSpec(
            "byteplus/seedance-1-0-pro-fast", False, 2, 12, RESOLUTIONS, "image", False, False
        ),
        ModelSpec(
            "byteplus/seedance-1-0-lite-i2v", False, 2, 12, RESOLUTIONS, "image", True, False
        ),
        ModelSpec(
            "byteplus/seedance-1-0-lite-t2v", False, 2, 12, RESOLUTIONS, "image", False, False
        ),
    )
}

# Output frame sizes per (resolution, ratio), as Seedance renders them (ARK docs' table).
# "adaptive" takes the ratio of the first reference image/video, else 16:9.
OUTPUT_SIZES: Final[dict[tuple[str, str], tuple[int, int]]] = {
    ("480p", "16:9"): (864, 496),
    ("480p", "4:3"): (752, 560),
    ("480p", "1:1"): (640, 640),
    ("480p", "3:4"): (560, 752),
    ("480p", "9:16"): (496, 864),
    ("480p", "21:9"): (992, 432),
    ("720p", "16:9"): (1280, 720),
    ("720p", "4:3"): (1112, 834),
    ("720p", "1:1"): (960, 960),
    ("720p", "3:4"): (834, 1112),
    ("720p", "9:16"): (720, 1280),
    ("720p", "21:9"): (1470, 630),
    ("1080p", "16:9"): (1920, 1080),
    ("1080p", "4:3"): (1664, 1248),
    ("1080p", "1:1"): (1440, 1440),
    ("1080p", "3:4"): (1248, 1664),
    ("1080p", "9:16"): (1080, 1920),
    ("1080p", "21:9"): (2206, 946),
}


# Models seen upstream since the table above (PEER 12.5), not known to be routed by OrcaRouter:
# offered only when GET /v1/models lists them. Their limits, when the service does not say them:
PEER_MODELS: Final[dict[str, ModelSpec]] = {
    m.name: m
    for m in (
        ModelSpec("dreamina-seedance-2-0-fast-260128", False, 4, 15, ("480p", "720p"), "full",
                  True, True),  # PEER; resolutions as 2.0-fast (GUESS)
        ModelSpec("dreamina-seedance-2-0-mini-260615", False, 4, 15, ("480p", "720p"), "full",
                  True, True),  # PEER; limits GUESS
        ModelSpec("dreamina-seedance-2-5-260628", False, 4, 30, RESOLUTIONS, "full", True,
                  True),  # PEER: 2.5 takes 4-30 s
    )
}  # fmt: skip
# GET /v1/models: which entries are video models (PEER 12.5).
VIDEO_ENDPOINT_TYPE: Final = "openai-video"  # PEER: in ``supported_endpoint_types``

# --------------------------------------------------------------------------- tokens and cost
# Seedance 2.0 bills (input video seconds + output seconds) x W x H x fps / 1024 tokens, with
# output frames = fps x s + 1 and input video frames = fps x s (PEER 12.4, measured: 720p 4 s =
# 87,300; + a 4 s reference video = 173,700). W x H is the output size.
INPUT_VIDEOS_BILLED: Final = True  # PEER 12.4
# "Inputs that contain video have a minimum token usage (value not published)" (PEER 12.4):
# None until someone learns it; then estimates take max(rule, this).
VIDEO_INPUT_MIN_TOKENS: Final[int | None] = None  # PEER: exists, value unknown
# "OrcaRouter charges the upstream per-token price with no markup" (DOC 12.4); the price itself
# is not in the reference. None until known; then tokens -> USD (e.g. for balance checks).
USD_PER_MILLION_TOKENS: Final[float | None] = None  # DOC: upstream price, value unknown
# What a ledger's ``tokens_source`` says about its token figure.
TOKENS_REPORTED: Final = "reported"  # the service's usage (fetch or /videos alias)
TOKENS_ESTIMATED: Final = "estimated"  # the rule above, every input known
TOKENS_ESTIMATED_MIN: Final = "estimated_min"  # the rule with an unknown length: a lower bound
TOKENS_SOURCES: Final = (TOKENS_REPORTED, TOKENS_ESTIMATED, TOKENS_ESTIMATED_MIN)
# Balance routes (DOC 12.4) answer in new-api/OpenAI's shape: ``hard_limit_usd`` (USD),
# ``total_usage`` (US cents, NEWAPI), ``access_until`` (unix seconds, 0 = never).
BALANCE_UNIT: Final = "USD"  # NEWAPI: the dashboard routes speak USD
USAGE_CENTS_PER_UNIT: Final = 100  # NEWAPI: ``total_usage`` is in cents


def usage_tokens(width: int, height: int, seconds: int, fps: int = OUTPUT_FPS) -> int:
    """Output tokens Seedance bills for a video: W x H x frames / 1024, frames = fps x s + 1.

    The reference's example (720p 16:9, 5 s, 24 fps) bills 108,900 tokens = 1280*720*121/1024.
    """
    return width * height * (fps * seconds + 1) // 1024


# --------------------------------------------------------------------------- media file names
# File-name extensions (lower case, no dot) of the formats REQUIREMENTS accepts, and their MIME
# types. The asset type of a format is the REQUIREMENTS row that lists it.
FORMAT_EXTENSIONS: Final[dict[str, str]] = {
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "jpe": "jpeg",
    "png": "png",
    "webp": "webp",
    "bmp": "bmp",
    "tif": "tiff",
    "tiff": "tiff",
    "gif": "gif",
    "heic": "heic",
    "heif": "heif",
    "mp4": "mp4",
    "m4v": "mp4",
    "mov": "mov",
    "qt": "mov",
    "wav": "wav",
    "wave": "wav",
    "mp3": "mp3",
}
FORMAT_MIME_TYPES: Final[dict[str, str]] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "gif": "image/gif",
    "heic": "image/heic",
    "heif": "image/heif",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
}

# --------------------------------------------------------------------------- video request fields
# Keys of ``metadata`` in POST /video/generations besides ``content`` (DOC table of §8.2, then the
# Ark fields new-api forwards). Values: ``duration`` -1 lets the model choose (ARK).
VIDEO_METADATA_FIELDS: Final = (
    "ratio",
    "duration",
    "resolution",
    "generate_audio",
    "watermark",
    "seed",
    "service_tier",
    "return_last_frame",
    "callback_url",
    "execution_expires_after",
    "camera_fixed",
    "draft",
    "safety_identifier",
    "frames",
)
DURATION_MODEL_CHOOSES: Final = -1
SERVICE_TIERS: Final = ("default", "flex")


# --------------------------------------------------------------------------- the orca-nb command
#: The console script every room's subcommand belongs to (``orca-nb studio``, ``orca-nb worker``).
COMMAND: Final = "orca-nb"


def command_failed(command: str, problem: object, *, status: int = 2) -> int:
    """Say on stderr why ``orca-nb <command>`` stops (``orca-nb <command>: <problem>``) and
    return ``status``, the exit status for the subcommand to return.

    A ``KeyError`` reads as its message, without the quotes ``str()`` puts around it.
    """
    if isinstance(problem, KeyError) and problem.args:
        problem = problem.args[0]
    print(f"{COMMAND} {command}: {problem}", file=sys.stderr)
    return status
