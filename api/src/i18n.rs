//! Messages shown to callers, in English and Korean.
//!
//! This file is long on purpose: every message and label in both languages, each an
//! exhaustive match, so a new variant cannot go untranslated.

pub use entity::enums::Locale;
use entity::{
    audit_event::{Subject, Verb},
    enums::Health,
};

/// Pick the locale for an anonymous caller from an `Accept-Language` header.
pub fn locale_from_accept_language(header: Option<&str>) -> Locale {
    let Some(header) = header else {
        return Locale::En;
    };
    // The first language the client ranks highest wins; we only know two.
    let mut best: Option<(f32, Locale)> = None;
    for part in header.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = pieces
            .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let locale = if tag == "ko" || tag.starts_with("ko-") {
            Locale::Ko
        } else if tag == "en" || tag.starts_with("en-") {
            Locale::En
        } else {
            continue;
        };
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, locale));
        }
    }
    best.map(|(_, locale)| locale).unwrap_or(Locale::En)
}

/// A message with its parameters; rendered per locale by [`Message::text`].
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Sign in first.
    SignInRequired,
    /// The token is malformed, forged, expired or revoked.
    InvalidToken,
    /// Email or password is wrong.
    InvalidCredentials,
    /// Only administrators may do this.
    AdminOnly,
    /// The program role is too low for this action.
    ProgramRoleTooLow,
    /// Nothing with that id exists (or the caller may not see it).
    NotFound,
    /// The value is required.
    Required,
    /// The text is longer than allowed.
    TooLong {
        /// Maximum number of characters.
        max: usize,
    },
    /// The text contains control characters.
    ControlCharacters,
    /// The text must not be blank.
    Blank,
    /// The value does not match the expected format.
    InvalidFormat {
        /// The expected format.
        expected: Format,
    },
    /// The number lies outside the allowed range.
    OutOfRange {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A date lies before another.
    DateBefore {
        /// The field it must not precede.
        other: &'static str,
    },
    /// A date range spans more weeks than allowed.
    TooManyWeeks {
        /// The most weeks allowed.
        max: i64,
    },
    /// `first`/`last` is above the page cap.
    PageTooLarge {
        /// The cap.
        max: usize,
    },
    /// `first` and `last` were both given.
    FirstAndLast,
    /// A day that has not come yet where only past days make sense.
    InTheFuture,
    /// Exactly one of several arguments must be given.
    ExactlyOneOf {
        /// The arguments, comma-separated.
        fields: &'static str,
    },
    /// The cursor was not issued by this list.
    InvalidCursor,
    /// The email address is malformed.
    InvalidEmail,
    /// The password is too short.
    PasswordTooShort {
        /// Minimum length.
        min: usize,
    },
    /// Something unique already exists.
    AlreadyExists,
    /// The email is already registered.
    EmailTaken,
    /// The program key is already taken.
    ProgramKeyTaken,
    /// `expectedVersion` is stale.
    StaleVersion,
    /// The new dependency would close a cycle.
    DependencyCycle,
    /// The document costs too much.
    QueryTooComplex {
        /// The computed cost.
        cost: u64,
        /// The limit.
        limit: u64,
    },
    /// Checking a new dependency for cycles would search too far.
    CycleSearchTooLarge {
        /// The configured number of steps.
        limit: u64,
    },
    /// A concurrent change to the same data won; running the mutation again may succeed.
    Contention,
    /// The caller is rate limited.
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The request body is not valid.
    MalformedRequest,
    /// A persisted-query hash the server does not know.
    PersistedQueryNotFound,
    /// Persisted-query hashes are off on this server.
    PersistedQueryNotSupported,
    /// The persisted-query extension is not version 1 with a SHA-256 hex hash.
    PersistedQueryMalformed,
    /// The document sent does not have the hash sent with it.
    PersistedQueryMismatch,
    /// Only trusted documents run here.
    DocumentNotTrusted,
    /// The document nests too deeply or is too large.
    DocumentTooLarge,
    /// Mutations may not be sent with GET.
    MutationOverGet,
    /// Only JSON bodies are accepted.
    UnsupportedMediaType,
    /// The request body is too large.
    BodyTooLarge,
    /// The document is not valid GraphQL syntax.
    SyntaxError,
    /// Something failed on the server.
    Internal,
    /// A program must keep at least one OWNER.
    LastOwner,
    /// The workstream has no dates, so it is not on the schedule.
    Unscheduled,
    /// The label of workstreams without a team in pictures.
    NoTeam,
    /// The team name is already taken.
    TeamNameTaken,
    /// Another row of the program already has this external id.
    ExternalIdTaken,
    /// Rows of an imported file are invalid.
    BadRows {
        /// How many errors.
        count: usize,
        /// The first bad row.
        first_row: usize,
    },
    /// A value of an imported row is not what the column holds.
    BadValue {
        /// What the parser said.
        detail: String,
    },
    /// An imported row names a workstream the file does not define.
    UnknownReference,
    /// Two rows of an imported file define the same reference or external id.
    DuplicateRow,
    /// The idempotency key came before with another request.
    IdempotencyKeyReused,
    /// The first request with this idempotency key is still running.
    IdempotencyKeyInProgress,
    /// The first request with this idempotency key ran, but its answer was not kept.
    IdempotencyResponseNotKept,
    /// A webhook may not post to a loopback, private or link-local address.
    WebhookTargetPrivate,
    /// The webhook event is not a known action.
    UnknownWebhookEvent,
    /// Only the team's creator or an administrator may change it.
    TeamCreatorOnly,
    /// Only a portfolio's owner or an ADMIN may change it.
    PortfolioOwnerOnly,
    /// Only a goal's owner, its portfolio's owner, editors of its programs and ADMINs change it.
    GoalChangers,
    /// A goal belongs to a portfolio, to programs, or both.
    GoalWithoutHome,
    /// The referenced team does not exist.
    UnknownTeam,
    /// The referenced user does not exist.
    UnknownUser,
    /// The person named must be a member of the program.
    NotAMember,
    /// The person named as promising a delivery must be a member of the upstream program.
    NotAnUpstreamMember,
    /// A workstream cannot depend on itself.
    DependsOnItself,
    /// The same upstream/downstream pair is already recorded.
    DependencyExists,
    /// At most this many items may be given.
    TooManyItems {
        /// The limit.
        max: usize,
    },
    /// The referenced thing belongs to another program.
    OtherProgram,
    /// An amount is in another currency than the program's other amounts.
    CurrencyMismatch {
        /// The program's currency.
        expected: String,
    },
    /// Only a PROPOSED decision can be decided.
    DecisionAlreadyDecided,
    /// A decision is decided as ACCEPTED or REJECTED.
    DecisionVerdict,
    /// Only an ACCEPTED decision can be superseded.
    DecisionNotAccepted,
    /// The decision is already superseded or has a pending replacement.
    DecisionAlreadySuperseded,
    /// The document nests fields deeper than allowed.
    QueryTooDeep {
        /// The document's depth.
        depth: u64,
        /// The limit.
        limit: u64,
    },
    /// The document has too many aliases.
    TooManyAliases {
        /// How many it has.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// The operation selects too many root fields.
    TooManyRootFields {
        /// How many it selects.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// The document uses too many directives.
    TooManyDirectives {
        /// How many it uses.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// The document spreads too many fragments.
    TooManyFragments {
        /// How many it spreads.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// Too many failed sign-ins for this account or address.
    TooManySignInFailures {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// API tokens are created with a signed-in session, not with another API token.
    ApiTokenCannotCreateTokens,
    /// Too many WebSockets are open (in total or from this address).
    TooManyWebSockets,
    /// Too many connections are open (in total or from this address).
    TooManyConnections,
    /// Two translations were given for the same language.
    DuplicateLocale,
    /// Only editors of the upstream program answer a dependency request.
    UpstreamAnswers,
    /// The dependency was delivered; it takes no other answer.
    AlreadyDelivered,
    /// A delivery cannot be dated after today.
    DeliveredInFuture,
    /// Only the author changes a comment.
    AuthorOnly,
    /// Only the author or an OWNER deletes a comment.
    AuthorOrOwnerOnly,
    /// Nothing with that id can be commented on (or the caller may not see it).
    NothingToComment,
    /// Give `ids` or `all: true`, not both and not neither.
    IdsOrAll,
    /// A status that delivers or reopens, and a promise, in one change.
    OneAnswerAtATime,
    /// Nothing was given to change.
    NothingToChange,
    /// A password is changed with a signed-in session, not an API token.
    PasswordNeedsSession,
    /// The current password given is not the account's.
    WrongPassword,
    /// The account was deactivated by an administrator.
    AccountDeactivated,
    /// Introspection is off on this server.
    IntrospectionDisabled,
    /// More input errors follow the first.
    MoreInputErrors {
        /// How many more.
        count: usize,
    },
    /// The token was logged out (or every session of the account was).
    SessionEnded,
    /// Only a signed-in session can be logged out; an API token is revoked instead.
    LogoutNeedsSession,
    /// The instance must keep an active administrator.
    LastAdmin,
}

impl Message {
    /// Render the message in `locale`.
    pub fn text(&self, locale: Locale) -> String {
        let ko = locale == Locale::Ko;
        let pick = |en: &str, ko_text: &str| {
            if ko {
                ko_text.to_owned()
            } else {
                en.to_owned()
            }
        };
        match self {
            Self::SignInRequired => pick("Sign in to do this.", "로그인이 필요합니다."),
            Self::InvalidToken => pick(
                "The access token is invalid, expired or revoked.",
                "액세스 토큰이 유효하지 않거나 만료되었거나 폐기되었습니다.",
            ),
            Self::InvalidCredentials => pick(
                "The email or password is incorrect.",
                "이메일 또는 비밀번호가 올바르지 않습니다.",
            ),
            Self::AdminOnly => pick(
                "Only administrators may do this.",
                "관리자만 할 수 있는 작업입니다.",
            ),
            Self::ProgramRoleTooLow => pick(
                "Your role in this program does not allow this.",
                "이 프로그램에서의 역할로는 이 작업을 할 수 없습니다.",
            ),
            Self::NotFound => pick(
                "Nothing was found with that id.",
                "해당 ID로 찾은 항목이 없습니다.",
            ),
            Self::Required => pick("This value is required.", "필수 값입니다."),
            Self::TooLong { max } => {
                if ko {
                    format!("{max}자 이하로 입력해 주세요.")
                } else {
                    format!("Must be at most {max} characters.")
                }
            }
            Self::ControlCharacters => pick(
                "Must not contain control characters other than newline and tab.",
                "줄바꿈과 탭 외의 제어 문자는 사용할 수 없습니다.",
            ),
            Self::Blank => pick("Must not be blank.", "비워 둘 수 없습니다."),
            Self::InvalidFormat { expected } => {
                if ko {
                    format!(
                        "형식이 올바르지 않습니다. 기대 형식: {}",
                        expected.text(locale)
                    )
                } else {
                    format!("Invalid format; expected {}.", expected.text(locale))
                }
            }
            Self::OutOfRange { min, max } => {
                if ko {
                    format!("{min}에서 {max} 사이의 값이어야 합니다.")
                } else {
                    format!("Must be between {min} and {max}.")
                }
            }
            Self::DateBefore { other } => {
                if ko {
                    format!("{other}보다 앞선 날짜일 수 없습니다.")
                } else {
                    format!("Must not be before {other}.")
                }
            }
            Self::TooManyWeeks { max } => {
                if ko {
                    format!("기간은 최대 {max}주까지 지정할 수 있습니다.")
                } else {
                    format!("The range may cover at most {max} weeks.")
                }
            }
            Self::PageTooLarge { max } => {
                if ko {
                    format!("한 페이지는 최대 {max}개까지 요청할 수 있습니다.")
                } else {
                    format!("A page holds at most {max} items.")
                }
            }
            Self::FirstAndLast => pick(
                "Pass either first or last, not both.",
                "first와 last는 함께 사용할 수 없습니다.",
            ),
            Self::InTheFuture => pick(
                "The day must not be after today.",
                "오늘 이후의 날짜는 지정할 수 없습니다.",
            ),
            Self::ExactlyOneOf { fields } => match locale {
                Locale::En => format!("Pass exactly one of {fields}."),
                Locale::Ko => format!("{fields} 중 하나만 지정하세요."),
            },
            Self::InvalidCursor => pick(
                "The cursor is not valid for this list.",
                "이 목록에 맞지 않는 커서입니다.",
            ),
            Self::InvalidEmail => pick(
                "Must be a valid email address.",
                "올바른 이메일 주소가 아닙니다.",
            ),
            Self::PasswordTooShort { min } => {
                if ko {
                    format!("비밀번호는 {min}자 이상이어야 합니다.")
                } else {
                    format!("The password must have at least {min} characters.")
                }
            }
            Self::AlreadyExists => pick("This already exists.", "이미 존재합니다."),
            Self::EmailTaken => pick(
                "A user with this email already exists.",
                "이 이메일을 쓰는 사용자가 이미 있습니다.",
            ),
            Self::BadRows { count, first_row } => {
                if ko {
                    format!(
                        "가져올 파일에 잘못된 항목이 {count}개 있습니다(첫 번째: {first_row}행). 아무것도 바뀌지 않았습니다."
                    )
                } else {
                    format!(
                        "The file has {count} error(s), the first on row {first_row}; nothing was changed."
                    )
                }
            }
            Self::BadValue { detail } => {
                if ko {
                    format!("값이 올바르지 않습니다: {detail}")
                } else {
                    format!("Invalid value: {detail}")
                }
            }
            Self::UnknownReference => pick(
                "No workstream of the file (or of the program) has this reference.",
                "파일(또는 프로그램)에 이 참조를 가진 워크스트림이 없습니다.",
            ),
            Self::DuplicateRow => pick(
                "Another row of the file already uses this reference.",
                "파일의 다른 행이 이미 이 참조를 쓰고 있습니다.",
            ),
            Self::ExternalIdTaken => pick(
                "Another item of this program already has this external id.",
                "이 프로그램의 다른 항목이 이미 이 외부 ID를 쓰고 있습니다.",
            ),
            Self::IdempotencyKeyReused => pick(
                "This Idempotency-Key was used with a different request; use a new key.",
                "이 Idempotency-Key는 다른 요청에 이미 쓰였습니다. 새 키를 쓰세요.",
            ),
            Self::IdempotencyKeyInProgress => pick(
                "The first request with this Idempotency-Key is still running; retry shortly.",
                "이 Idempotency-Key의 첫 요청이 아직 실행 중입니다. 잠시 후 다시 시도해 주세요.",
            ),
            Self::IdempotencyResponseNotKept => pick(
                "The request with this Idempotency-Key ran, but its response was not kept (too large, it held a secret shown once, or its server stopped before keeping it); read the result instead.",
                "이 Idempotency-Key의 요청은 실행되었지만 응답은 보관하지 않았습니다(너무 크거나, 한 번만 보여 주는 비밀 값이 있거나, 서버가 응답을 보관하기 전에 멈춤). 결과를 조회해 확인하세요.",
            ),
            Self::WebhookTargetPrivate => pick(
                "Webhooks may not post to loopback, private or link-local addresses.",
                "웹훅은 루프백, 사설, 링크 로컬 주소로 보낼 수 없습니다.",
            ),
            Self::UnknownWebhookEvent => pick(
                "Unknown event; use an action such as workstream.create, a subject such as risk.*, or *.",
                "알 수 없는 이벤트입니다. workstream.create 같은 동작, risk.* 같은 대상, 또는 *를 쓰세요.",
            ),
            Self::ProgramKeyTaken => pick(
                "A program with this key already exists.",
                "같은 키를 쓰는 프로그램이 이미 있습니다.",
            ),
            Self::StaleVersion => pick(
                "Someone else changed this first; reload and try again.",
                "다른 사용자가 먼저 변경했습니다. 새로 고친 뒤 다시 시도해 주세요.",
            ),
            Self::DependencyCycle => pick(
                "This dependency would create a cycle.",
                "이 의존 관계를 추가하면 순환이 생깁니다.",
            ),
            Self::QueryTooComplex { cost, limit } => {
                if ko {
                    format!("쿼리가 너무 복잡합니다 (비용 {cost}, 한도 {limit}).")
                } else {
                    format!("The query is too complex (cost {cost}, limit {limit}).")
                }
            }
            Self::CycleSearchTooLarge { limit } => {
                if ko {
                    format!(
                        "의존 관계 그래프가 너무 커서 순환 여부를 {limit}단계 안에 확인할 수 없습니다. 의존 관계 사슬을 줄이세요."
                    )
                } else {
                    format!(
                        "Checking this dependency for cycles would take more than {limit} steps through the dependency graph; shorten the chains it would join."
                    )
                }
            }
            Self::Contention => pick(
                "Another change to the same data was made at the same moment; try again.",
                "같은 데이터가 동시에 변경되었습니다. 다시 시도하세요.",
            ),
            Self::RateLimited { retry_after } => {
                if ko {
                    format!("요청이 너무 많습니다. {retry_after}초 후에 다시 시도해 주세요.")
                } else {
                    format!("Too many requests; retry in {retry_after} seconds.")
                }
            }
            Self::MalformedRequest => pick(
                "The request body is not a valid GraphQL request.",
                "요청 본문이 올바른 GraphQL 요청이 아닙니다.",
            ),
            Self::PersistedQueryNotFound => pick(
                "PersistedQueryNotFound: this server does not know the document's hash; send the document with it.",
                "PersistedQueryNotFound: 서버가 이 문서 해시를 모릅니다. 문서를 해시와 함께 보내 주세요.",
            ),
            Self::PersistedQueryNotSupported => pick(
                "PersistedQueryNotSupported: this server does not take persisted-query hashes; send the document.",
                "PersistedQueryNotSupported: 이 서버는 persisted query 해시를 받지 않습니다. 문서를 보내 주세요.",
            ),
            Self::PersistedQueryMalformed => pick(
                "extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"<64 hex digits>\"}.",
                "extensions.persistedQuery는 {\"version\": 1, \"sha256Hash\": \"<16진수 64자>\"} 형식이어야 합니다.",
            ),
            Self::PersistedQueryMismatch => pick(
                "The document's SHA-256 hash is not the sha256Hash sent with it.",
                "문서의 SHA-256 해시가 함께 보낸 sha256Hash와 다릅니다.",
            ),
            Self::DocumentNotTrusted => pick(
                "This server runs trusted documents only, and this document is not one of them; add it to the trusted documents file.",
                "이 서버는 신뢰할 수 있는 문서만 실행하며, 이 문서는 목록에 없습니다. 신뢰 문서 파일에 추가해 주세요.",
            ),
            Self::DocumentTooLarge => pick(
                "The GraphQL document is too large or nested too deeply.",
                "GraphQL 문서가 너무 크거나 너무 깊게 중첩되어 있습니다.",
            ),
            Self::MutationOverGet => pick(
                "Mutations must be sent with POST.",
                "뮤테이션은 POST로 보내야 합니다.",
            ),
            Self::UnsupportedMediaType => pick(
                "Send the request as application/json.",
                "요청은 application/json 형식으로 보내야 합니다.",
            ),
            Self::BodyTooLarge => {
                pick("The request body is too large.", "요청 본문이 너무 큽니다.")
            }
            Self::SyntaxError => pick(
                "The GraphQL document has a syntax error.",
                "GraphQL 문서에 문법 오류가 있습니다.",
            ),
            Self::Internal => pick(
                "An internal error occurred.",
                "서버 내부 오류가 발생했습니다.",
            ),
            Self::LastOwner => pick(
                "A program must keep at least one owner.",
                "프로그램에는 소유자가 한 명 이상 있어야 합니다.",
            ),
            Self::Unscheduled => pick(
                "This workstream has no start or target date, so it is not on the schedule.",
                "이 워크스트림은 시작일이나 목표일이 없어 일정에 포함되지 않습니다.",
            ),
            Self::NoTeam => pick("No team", "팀 미지정"),
            Self::TeamNameTaken => pick(
                "A team with this name already exists.",
                "같은 이름의 팀이 이미 있습니다.",
            ),
            Self::TeamCreatorOnly => pick(
                "Only the team's creator or an administrator may change it.",
                "팀을 만든 사용자나 관리자만 변경할 수 있습니다.",
            ),
            Self::GoalChangers => pick(
                "Only the goal's owner, its portfolio's owner, owners and editors of its programs, or an administrator may change it.",
                "목표 담당자, 포트폴리오 소유자, 프로그램 소유자·편집자 또는 관리자만 변경할 수 있습니다.",
            ),
            Self::GoalWithoutHome => pick(
                "Give a portfolioId, at least one programId, or both.",
                "portfolioId나 programId를 하나 이상 입력하세요.",
            ),
            Self::PortfolioOwnerOnly => pick(
                "Only the portfolio's owner or an administrator may change it.",
                "포트폴리오 소유자나 관리자만 변경할 수 있습니다.",
            ),
            Self::UnknownTeam => pick("No team exists with that id.", "해당 ID의 팀이 없습니다."),
            Self::UnknownUser => pick(
                "No user exists with that id.",
                "해당 ID의 사용자가 없습니다.",
            ),
            Self::NotAMember => pick(
                "That person is not a member of this program; add them to the program first.",
                "해당 사용자는 이 프로그램의 구성원이 아닙니다. 먼저 프로그램 구성원으로 추가하세요.",
            ),
            Self::NotAnUpstreamMember => pick(
                "The person promising the delivery must be a member of the upstream workstream's program.",
                "납품을 약속하는 사용자는 선행 워크스트림이 속한 프로그램의 구성원이어야 합니다.",
            ),
            Self::UpstreamAnswers => pick(
                "Only editors of the upstream workstream's program commit to, decline or deliver a dependency.",
                "의존 관계의 약속, 거절, 전달은 선행 워크스트림이 속한 프로그램의 편집자만 할 수 있습니다.",
            ),
            Self::AlreadyDelivered => pick(
                "This dependency has been delivered; reopen it (status) to ask again.",
                "이미 전달된 의존 관계입니다. 다시 요청하려면 상태를 다시 여세요.",
            ),
            Self::DeliveredInFuture => pick(
                "A delivery cannot be dated after today.",
                "전달일은 오늘 이후일 수 없습니다.",
            ),
            Self::AuthorOnly => pick(
                "Only the comment's author may change it.",
                "댓글 작성자만 수정할 수 있습니다.",
            ),
            Self::AuthorOrOwnerOnly => pick(
                "Only the comment's author or an OWNER of the program may delete it.",
                "댓글 작성자나 프로그램 소유자만 삭제할 수 있습니다.",
            ),
            Self::NothingToComment => pick(
                "No workstream, dependency, decision or risk exists with that id.",
                "해당 ID의 워크스트림, 의존 관계, 의사결정, 리스크가 없습니다.",
            ),
            Self::OneAnswerAtATime => pick(
                "Change the status or the promise, not both in one change.",
                "상태와 약속일은 한 번에 하나만 변경할 수 있습니다.",
            ),
            Self::MoreInputErrors { count } => {
                if ko {
                    format!("(이 밖에 {count}건의 입력 오류가 extensions.errors에 있습니다.)")
                } else {
                    format!("({count} more input errors in extensions.errors.)")
                }
            }
            Self::IntrospectionDisabled => pick(
                "Introspection (__schema, __type) is off on this server; use the published schema.graphql, or set TRESTLE_INTROSPECTION=true.",
                "이 서버에서는 인트로스펙션(__schema, __type)이 꺼져 있습니다. 배포된 schema.graphql을 사용하거나 TRESTLE_INTROSPECTION=true로 설정해 주세요.",
            ),
            Self::AccountDeactivated => pick(
                "This account is deactivated; ask an administrator to reactivate it.",
                "비활성화된 계정입니다. 관리자에게 재활성화를 요청해 주세요.",
            ),
            Self::SessionEnded => pick(
                "This token was logged out; sign in again.",
                "로그아웃된 토큰입니다. 다시 로그인해 주세요.",
            ),
            Self::LogoutNeedsSession => pick(
                "Only a signed-in session can be logged out; revoke an API token with revokeApiToken.",
                "로그인한 세션만 로그아웃할 수 있습니다. API 토큰은 revokeApiToken으로 폐기해 주세요.",
            ),
            Self::LastAdmin => pick(
                "The instance must keep at least one active administrator.",
                "활성 관리자가 최소 한 명은 있어야 합니다.",
            ),
            Self::PasswordNeedsSession => pick(
                "Sign in with your password to change it; an API token cannot.",
                "비밀번호는 로그인한 세션에서만 변경할 수 있습니다. API 토큰으로는 변경할 수 없습니다.",
            ),
            Self::WrongPassword => pick(
                "The current password is incorrect.",
                "현재 비밀번호가 올바르지 않습니다.",
            ),
            Self::NothingToChange => pick(
                "Give at least one field to change.",
                "변경할 항목을 하나 이상 입력하세요.",
            ),
            Self::IdsOrAll => pick(
                "Give either ids or all: true.",
                "ids 또는 all: true 중 하나만 입력하세요.",
            ),
            Self::DependsOnItself => pick(
                "A workstream cannot depend on itself.",
                "워크스트림은 자기 자신에 의존할 수 없습니다.",
            ),
            Self::DependencyExists => pick(
                "This workstream already depends on that one.",
                "이 워크스트림은 이미 해당 워크스트림에 의존하고 있습니다.",
            ),
            Self::TooManyItems { max } => {
                if ko {
                    format!("최대 {max}개까지 입력할 수 있습니다.")
                } else {
                    format!("At most {max} items are allowed.")
                }
            }
            Self::OtherProgram => pick(
                "Must belong to the same program.",
                "같은 프로그램에 속해야 합니다.",
            ),
            Self::CurrencyMismatch { expected } => {
                if ko {
                    format!("이 프로그램의 금액은 {expected} 통화입니다. 같은 통화를 쓰세요.")
                } else {
                    format!("The program's amounts are in {expected}; use the same currency.")
                }
            }
            Self::DecisionAlreadyDecided => pick(
                "This decision has already been decided; only a proposed decision can be decided.",
                "이미 결정된 사안입니다. 제안 상태의 결정만 결정할 수 있습니다.",
            ),
            Self::DecisionVerdict => pick(
                "A decision is decided as ACCEPTED or REJECTED.",
                "결정 상태는 ACCEPTED 또는 REJECTED여야 합니다.",
            ),
            Self::DecisionNotAccepted => pick(
                "Only an accepted decision can be superseded.",
                "승인된 결정만 대체할 수 있습니다.",
            ),
            Self::DecisionAlreadySuperseded => pick(
                "This decision is already superseded or has a pending replacement.",
                "이 결정은 이미 대체되었거나 대체 제안이 진행 중입니다.",
            ),
            Self::QueryTooDeep { depth, limit } => {
                if ko {
                    format!("쿼리가 너무 깊게 중첩되어 있습니다 (깊이 {depth}, 한도 {limit}).")
                } else {
                    format!("The query nests too deeply (depth {depth}, limit {limit}).")
                }
            }
            Self::TooManyAliases { count, limit } => {
                if ko {
                    format!("별칭이 너무 많습니다 ({count}개, 한도 {limit}개).")
                } else {
                    format!("The query uses too many aliases ({count}, limit {limit}).")
                }
            }
            Self::TooManyRootFields { count, limit } => {
                if ko {
                    format!("최상위 필드가 너무 많습니다 ({count}개, 한도 {limit}개).")
                } else {
                    format!("The operation selects too many root fields ({count}, limit {limit}).")
                }
            }
            Self::TooManyDirectives { count, limit } => {
                if ko {
                    format!("지시어가 너무 많습니다 ({count}개, 한도 {limit}개).")
                } else {
                    format!("The query uses too many directives ({count}, limit {limit}).")
                }
            }
            Self::TooManyFragments { count, limit } => {
                if ko {
                    format!("프래그먼트 사용이 너무 많습니다 ({count}회, 한도 {limit}회).")
                } else {
                    format!("The query spreads too many fragments ({count}, limit {limit}).")
                }
            }
            Self::TooManySignInFailures { retry_after } => {
                if ko {
                    format!("로그인 실패가 너무 많습니다. {retry_after}초 후에 다시 시도해 주세요.")
                } else {
                    format!("Too many failed sign-ins; retry in {retry_after} seconds.")
                }
            }
            Self::TooManyConnections => pick(
                "Too many connections are open; retry shortly.",
                "열린 연결이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
            ),
            Self::TooManyWebSockets => pick(
                "Too many WebSocket connections are open; retry shortly.",
                "열린 WebSocket 연결이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
            ),
            Self::DuplicateLocale => pick(
                "Give at most one translation per language.",
                "언어마다 번역은 하나만 넣을 수 있습니다.",
            ),
            Self::ApiTokenCannotCreateTokens => pick(
                "An API token cannot create API tokens; sign in to create one.",
                "API 토큰으로는 API 토큰을 만들 수 없습니다. 로그인한 뒤 만들어 주세요.",
            ),
        }
    }
}

/// How the brief names a kind of entity whose changes it counts.
pub fn subject_label(subject: Subject, locale: Locale) -> &'static str {
    let (en, ko) = match subject {
        Subject::User => ("users", "사용자"),
        Subject::ApiToken => ("API tokens", "API 토큰"),
        Subject::Team => ("teams", "팀"),
        Subject::Program => ("program", "프로그램"),
        Subject::ProgramMember => ("members", "구성원"),
        Subject::Workstream => ("workstreams", "워크스트림"),
        Subject::Milestone => ("milestones", "마일스톤"),
        Subject::Dependency => ("dependencies", "의존 관계"),
        Subject::Decision => ("decisions", "의사결정"),
        Subject::Risk => ("risks", "리스크"),
        Subject::StatusUpdate => ("status updates", "상태 보고"),
        Subject::Cost => ("costs", "비용"),
        Subject::Portfolio => ("portfolios", "포트폴리오"),
        Subject::Goal => ("goals", "목표"),
        Subject::Baseline => ("baselines", "기준선"),
        Subject::Comment => ("comments", "댓글"),
        Subject::Webhook => ("webhooks", "웹훅"),
    };
    match locale {
        Locale::En => en,
        Locale::Ko => ko,
    }
}

/// The counter word after a number of `subject` ("3명", "2건"); none in English.
pub fn count_unit(subject: Subject, locale: Locale) -> &'static str {
    let ko = match subject {
        Subject::User | Subject::ProgramMember => "명",
        Subject::ApiToken
        | Subject::Team
        | Subject::Program
        | Subject::Workstream
        | Subject::Milestone
        | Subject::Dependency
        | Subject::Decision
        | Subject::Risk
        | Subject::StatusUpdate
        | Subject::Cost
        | Subject::Portfolio
        | Subject::Goal
        | Subject::Baseline
        | Subject::Comment
        | Subject::Webhook => "건",
    };
    match locale {
        Locale::En => "",
        Locale::Ko => ko,
    }
}

/// How the brief names a program's health.
pub fn health_label(health: Health, locale: Locale) -> &'static str {
    let (en, ko) = match health {
        Health::OnTrack => ("on track", "정상"),
        Health::AtRisk => ("at risk", "주의"),
        Health::OffTrack => ("off track", "위험"),
    };
    match locale {
        Locale::En => en,
        Locale::Ko => ko,
    }
}

/// How the brief names what was done, after a count ("3 added").
pub fn verb_label(verb: Verb, locale: Locale) -> &'static str {
    let (en, ko) = match verb {
        Verb::Create => ("added", "추가"),
        Verb::Update => ("changed", "변경"),
        Verb::Delete => ("removed", "삭제"),
        Verb::Archive => ("archived", "보관"),
        Verb::Unarchive => ("restored", "복원"),
        Verb::Decide => ("decided", "결정"),
        Verb::Post => ("posted", "게시"),
        Verb::Set => ("changed", "변경"),
        Verb::Remove => ("removed", "제외"),
        Verb::Revoke => ("revoked", "폐기"),
        Verb::Capture => ("captured", "저장"),
        Verb::Commit => ("committed", "약속"),
        Verb::Decline => ("declined", "거절"),
        Verb::Deliver => ("delivered", "전달"),
        Verb::Logout => ("logged out", "로그아웃"),
        Verb::LogoutEverywhere => ("logged out everywhere", "모든 기기에서 로그아웃"),
        Verb::Deactivate => ("deactivated", "비활성화"),
        Verb::Reactivate => ("reactivated", "재활성화"),
    };
    match locale {
        Locale::En => en,
        Locale::Ko => ko,
    }
}

/// A notification as one sentence in `locale`: who did what to which
/// subject (`actor` and `title` when known).
pub fn notification_text(
    kind: entity::enums::NotificationKind,
    actor: Option<&str>,
    title: Option<&str>,
    locale: Locale,
) -> String {
    use entity::enums::NotificationKind as Kind;
    let ko = locale == Locale::Ko;
    let who = actor.unwrap_or(if ko { "누군가" } else { "Someone" });
    let what = title.map_or_else(
        || {
            if ko {
                "삭제된 항목".to_owned()
            } else {
                "something since deleted".to_owned()
            }
        },
        |title| format!("“{title}”"),
    );
    match (kind, ko) {
        (Kind::Mentioned, false) => format!("{who} mentioned you on {what}."),
        (Kind::Mentioned, true) => format!("{who}님이 {what}에서 회원님을 언급했습니다."),
        (Kind::DependencyRequested, false) => format!("{who} asks your team for {what}."),
        (Kind::DependencyRequested, true) => format!("{who}님이 {what} 전달을 요청했습니다."),
        (Kind::DependencyCommitted, false) => format!("{who} committed to {what}."),
        (Kind::DependencyCommitted, true) => format!("{who}님이 {what} 전달을 약속했습니다."),
        (Kind::DependencyDeclined, false) => format!("{who} declined {what}."),
        (Kind::DependencyDeclined, true) => format!("{who}님이 {what} 요청을 거절했습니다."),
        (Kind::DependencyDelivered, false) => format!("{who} delivered {what}."),
        (Kind::DependencyDelivered, true) => format!("{who}님이 {what}을(를) 전달했습니다."),
        (Kind::DependencyOverdue, false) => format!("{what} is past its need date."),
        (Kind::DependencyOverdue, true) => format!("{what}이(가) 필요일을 넘겼습니다."),
        (Kind::DecisionDue, false) => format!("The decision {what} is coming due."),
        (Kind::DecisionDue, true) => format!("의사결정 {what}의 기한이 다가옵니다."),
        (Kind::StatusUpdateDue, false) => format!("A status update for {what} is due."),
        (Kind::StatusUpdateDue, true) => format!("{what}의 상태 보고 기한입니다."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_highest_quality_known_language() {
        assert_eq!(
            locale_from_accept_language(Some("ko-KR,ko;q=0.9")),
            Locale::Ko
        );
        assert_eq!(
            locale_from_accept_language(Some("fr;q=1, en;q=0.5, ko;q=0.8")),
            Locale::Ko
        );
        assert_eq!(locale_from_accept_language(Some("de")), Locale::En);
        assert_eq!(locale_from_accept_language(None), Locale::En);
    }
}

/// A format a value was expected in, named in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A UUID.
    Uuid,
    /// Exactly one of `userId` and `email`.
    UserIdOrEmail,
    /// Exactly one of `id` and `key`.
    IdOrKey,
    /// The WebSocket subprotocol header.
    WebSocketProtocol,
    /// A subscription operation.
    Subscription,
    /// An ISO 4217 currency code.
    CurrencyCode,
    /// A program key.
    ProgramKey,
    /// An IANA time zone.
    TimeZone,
    /// An absolute `http` or `https` URL.
    HttpUrl,
    /// An idempotency key.
    IdempotencyKey,
}

impl Format {
    /// The format described in `locale`.
    pub fn text(self, locale: Locale) -> &'static str {
        let (en, ko) = match self {
            Self::Uuid => ("a UUID", "UUID"),
            Self::UserIdOrEmail => (
                "exactly one of userId or email",
                "userId와 email 중 정확히 하나",
            ),
            Self::IdOrKey => ("exactly one of id or key", "id와 key 중 정확히 하나"),
            Self::WebSocketProtocol => (
                "Sec-WebSocket-Protocol: graphql-transport-ws",
                "Sec-WebSocket-Protocol: graphql-transport-ws 헤더",
            ),
            Self::Subscription => (
                "a subscription (send queries and mutations to POST /graphql)",
                "구독(subscription) 연산 (쿼리와 뮤테이션은 POST /graphql로 보내 주세요)",
            ),
            Self::CurrencyCode => (
                "an ISO 4217 code such as USD or KRW",
                "USD, KRW 같은 ISO 4217 통화 코드",
            ),
            Self::ProgramKey => (
                "2-10 characters: an uppercase letter, then uppercase letters or digits",
                "2-10자: 영문 대문자로 시작하고 이후 영문 대문자나 숫자",
            ),
            Self::TimeZone => (
                "an IANA time zone name such as Asia/Seoul",
                "Asia/Seoul 같은 IANA 시간대 이름",
            ),
            Self::HttpUrl => (
                "an absolute http or https URL of at most 2048 characters",
                "2048자 이하의 http 또는 https 절대 URL",
            ),
            Self::IdempotencyKey => (
                "1-255 visible ASCII characters",
                "1-255자의 보이는 ASCII 문자",
            ),
        };
        match locale {
            Locale::En => en,
            Locale::Ko => ko,
        }
    }
}
