//! Permission names and the sets of them that roles, accounts and credentials carry.
//!
//! Names are Stalwart's wire strings (`Permission::as_str`). The order of
//! [`USER_ROLE`] is the order in which Stalwart 0.16.19 listed the default User
//! role's permissions in `GET /api/account` (fixture `02-api-account.json`); every
//! list this server prints follows the catalogue order ([`USER_ROLE`], then
//! [`ADMIN_ONLY`]).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// The default User role's permissions, in the order the real server printed them.
pub const USER_ROLE: &[&str] = &[
    "jmapPrincipalCreate",
    "jmapSieveScriptDestroy",
    "jmapSieveScriptUpdate",
    "jmapSieveScriptCreate",
    "jmapSieveScriptValidate",
    "jmapSieveScriptQuery",
    "jmapSieveScriptGet",
    "jmapVacationResponseDestroy",
    "jmapVacationResponseUpdate",
    "jmapVacationResponseCreate",
    "jmapVacationResponseGet",
    "jmapEmailSubmissionDestroy",
    "jmapEmailSubmissionUpdate",
    "jmapEmailSubmissionCreate",
    "jmapEmailSubmissionQueryChanges",
    "jmapEmailSubmissionQuery",
    "jmapEmailSubmissionChanges",
    "jmapEmailSubmissionGet",
    "jmapIdentityDestroy",
    "jmapIdentityUpdate",
    "jmapIdentityCreate",
    "jmapIdentityChanges",
    "jmapIdentityGet",
    "jmapSearchSnippetGet",
    "jmapEmailParse",
    "jmapEmailImport",
    "jmapEmailCopy",
    "jmapEmailDestroy",
    "jmapEmailUpdate",
    "jmapEmailCreate",
    "jmapEmailQueryChanges",
    "jmapEmailQuery",
    "jmapEmailChanges",
    "jmapEmailGet",
    "jmapThreadChanges",
    "jmapThreadGet",
    "jmapMailboxDestroy",
    "jmapMailboxUpdate",
    "jmapMailboxCreate",
    "jmapMailboxQueryChanges",
    "jmapMailboxQuery",
    "jmapMailboxChanges",
    "jmapMailboxGet",
    "jmapPushSubscriptionDestroy",
    "jmapPushSubscriptionUpdate",
    "jmapPushSubscriptionCreate",
    "jmapPushSubscriptionGet",
    "calendarSchedulingReceive",
    "calendarSchedulingSend",
    "calendarAlarmsSend",
    "emailReceive",
    "emailSend",
    "interactAi",
    "authenticateWithAlias",
    "authenticate",
    "jmapParticipantIdentityDestroy",
    "jmapParticipantIdentityUpdate",
    "jmapParticipantIdentityCreate",
    "jmapParticipantIdentityChanges",
    "jmapParticipantIdentityGet",
    "jmapCalendarEventNotificationDestroy",
    "jmapCalendarEventNotificationUpdate",
    "jmapCalendarEventNotificationCreate",
    "jmapCalendarEventNotificationQueryChanges",
    "jmapCalendarEventNotificationQuery",
    "jmapCalendarEventNotificationChanges",
    "jmapCalendarEventNotificationGet",
    "jmapCalendarEventParse",
    "jmapCalendarEventCopy",
    "jmapCalendarEventDestroy",
    "jmapCalendarEventUpdate",
    "jmapCalendarEventCreate",
    "jmapCalendarEventQueryChanges",
    "jmapCalendarEventQuery",
    "jmapCalendarEventChanges",
    "jmapCalendarEventGet",
    "jmapCalendarDestroy",
    "jmapCalendarUpdate",
    "jmapCalendarCreate",
    "jmapCalendarChanges",
    "jmapCalendarGet",
    "jmapShareNotificationDestroy",
    "jmapShareNotificationUpdate",
    "jmapShareNotificationCreate",
    "jmapShareNotificationQueryChanges",
    "jmapShareNotificationQuery",
    "jmapShareNotificationChanges",
    "jmapShareNotificationGet",
    "jmapFileNodeDestroy",
    "jmapFileNodeUpdate",
    "jmapFileNodeCreate",
    "jmapFileNodeQueryChanges",
    "jmapFileNodeQuery",
    "jmapFileNodeChanges",
    "jmapFileNodeGet",
    "jmapContactCardParse",
    "jmapContactCardCopy",
    "jmapContactCardDestroy",
    "jmapContactCardUpdate",
    "jmapContactCardCreate",
    "jmapContactCardQueryChanges",
    "jmapContactCardQuery",
    "jmapContactCardChanges",
    "jmapContactCardGet",
    "jmapAddressBookDestroy",
    "jmapAddressBookUpdate",
    "jmapAddressBookCreate",
    "jmapAddressBookChanges",
    "jmapAddressBookGet",
    "jmapBlobUpload",
    "jmapBlobLookup",
    "jmapBlobCopy",
    "jmapBlobGet",
    "jmapQuotaQueryChanges",
    "jmapQuotaQuery",
    "jmapQuotaChanges",
    "jmapQuotaGet",
    "jmapPrincipalDestroy",
    "jmapPrincipalUpdate",
    "davCardGet",
    "davCardPropPatch",
    "davCardPropFind",
    "davFileAcl",
    "davFileLock",
    "davFileMove",
    "davFileCopy",
    "davFilePut",
    "davFileDelete",
    "davFileMkCol",
    "davFileGet",
    "davFilePropPatch",
    "davFilePropFind",
    "davPrincipalSearchPropSet",
    "davPrincipalSearch",
    "davPrincipalMatch",
    "davPrincipalList",
    "davPrincipalAcl",
    "davExpandProperty",
    "davSyncCollection",
    "sieveHaveSpace",
    "sieveCheckScript",
    "sieveRenameScript",
    "sieveDeleteScript",
    "sievePutScript",
    "sieveGetScript",
    "sieveSetActive",
    "sieveListScripts",
    "sieveAuthenticate",
    "pop3Dele",
    "pop3Retr",
    "pop3Stat",
    "pop3Uidl",
    "pop3List",
    "pop3Authenticate",
    "imapThread",
    "imapSubscribe",
    "imapStore",
    "imapStatus",
    "imapExamine",
    "imapSelect",
    "imapSort",
    "imapSearch",
    "imapRename",
    "imapNamespace",
    "imapLsub",
    "imapList",
    "imapIdle",
    "imapFetch",
    "imapExpunge",
    "imapEnable",
    "imapDelete",
    "imapCreate",
    "imapMove",
    "imapCopy",
    "imapId",
    "imapCapability",
    "imapAppend",
    "imapListRights",
    "imapMyRights",
    "imapAclSet",
    "imapAclGet",
    "imapAuthenticate",
    "jmapCoreEcho",
    "sysAccountSettingsUpdate",
    "sysAccountSettingsGet",
    "sysAccountPasswordUpdate",
    "sysAccountPasswordGet",
    "davCalFreeBusyQuery",
    "davCalMultiGet",
    "davCalQuery",
    "davCalAcl",
    "davCalLock",
    "davCalMove",
    "davCalCopy",
    "davCalPut",
    "davCalDelete",
    "davCalMkCol",
    "davCalGet",
    "davCalPropPatch",
    "davCalPropFind",
    "davCardMultiGet",
    "davCardQuery",
    "davCardAcl",
    "davCardLock",
    "davCardMove",
    "davCardCopy",
    "davCardPut",
    "davCardDelete",
    "davCardMkCol",
    "sysArchivedItemQuery",
    "sysArchivedItemDestroy",
    "sysArchivedItemUpdate",
    "sysArchivedItemCreate",
    "sysArchivedItemGet",
    "sysAppPasswordQuery",
    "sysAppPasswordDestroy",
    "sysAppPasswordUpdate",
    "sysAppPasswordCreate",
    "sysAppPasswordGet",
    "sysApiKeyQuery",
    "sysApiKeyDestroy",
    "sysApiKeyUpdate",
    "sysApiKeyCreate",
    "sysApiKeyGet",
    "sysMaskedEmailQuery",
    "sysMaskedEmailDestroy",
    "sysMaskedEmailUpdate",
    "sysMaskedEmailCreate",
    "sysMaskedEmailGet",
    "sysPublicKeyQuery",
    "sysPublicKeyDestroy",
    "sysPublicKeyUpdate",
    "sysPublicKeyCreate",
    "sysPublicKeyGet",
    "sysSpamTrainingSampleQuery",
    "sysSpamTrainingSampleDestroy",
    "sysSpamTrainingSampleUpdate",
    "sysSpamTrainingSampleGet",
    "jmapFileNodeCopy",
];

/// Permissions that only the administrator role has (a subset of Stalwart's
/// System Administrator role: what the admin calls of the fixtures need).
pub const ADMIN_ONLY: &[&str] = &[
    "impersonate",
    "sysAccountGet",
    "sysAccountCreate",
    "sysAccountUpdate",
    "sysAccountDestroy",
    "sysAccountQuery",
    "sysRoleGet",
    "sysRoleCreate",
    "sysRoleUpdate",
    "sysRoleDestroy",
    "sysRoleQuery",
    "sysQueuedMessageGet",
    "sysQueuedMessageUpdate",
    "sysQueuedMessageDestroy",
    "sysQueuedMessageQuery",
];

/// The 19 account-security self-service permissions.
pub const SELF_SERVICE: &[&str] = &[
    "sysAccountPasswordGet",
    "sysAccountPasswordUpdate",
    "sysAppPasswordGet",
    "sysAppPasswordCreate",
    "sysAppPasswordUpdate",
    "sysAppPasswordDestroy",
    "sysAppPasswordQuery",
    "sysApiKeyGet",
    "sysApiKeyCreate",
    "sysApiKeyUpdate",
    "sysApiKeyDestroy",
    "sysApiKeyQuery",
    "sysAccountSettingsGet",
    "sysAccountSettingsUpdate",
    "sysPublicKeyGet",
    "sysPublicKeyCreate",
    "sysPublicKeyUpdate",
    "sysPublicKeyDestroy",
    "sysPublicKeyQuery",
];

/// The two permissions `GET /api/account` hides for accounts of an external directory.
pub const PASSWORD_SELF_SERVICE: &[&str] = &["sysAccountPasswordGet", "sysAccountPasswordUpdate"];

/// Whether `name` is a permission this server knows.
pub fn is_known(name: &str) -> bool {
    USER_ROLE.contains(&name) || ADMIN_ONLY.contains(&name)
}

/// A set of permission names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PermissionSet(BTreeSet<String>);

impl PermissionSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set holding every name of `names`.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self(names.into_iter().map(str::to_owned).collect())
    }

    /// The default User role.
    pub fn user_role() -> Self {
        Self::from_names(USER_ROLE.iter().copied())
    }

    /// The administrator role: every permission this server knows.
    pub fn admin_role() -> Self {
        Self::from_names(USER_ROLE.iter().chain(ADMIN_ONLY).copied())
    }

    /// Whether the set holds `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// Adds `name`.
    pub fn insert(&mut self, name: &str) {
        self.0.insert(name.to_owned());
    }

    /// Removes `name`.
    pub fn remove(&mut self, name: &str) {
        self.0.remove(name);
    }

    /// Adds every name of `other`.
    pub fn extend(&mut self, other: &PermissionSet) {
        self.0.extend(other.0.iter().cloned());
    }

    /// Removes every name of `other`.
    pub fn subtract(&mut self, other: &PermissionSet) {
        self.0.retain(|name| !other.0.contains(name));
    }

    /// Keeps only the names that `other` also holds.
    pub fn intersect(&mut self, other: &PermissionSet) {
        self.0.retain(|name| other.0.contains(name));
    }

    /// The names in `self` that `other` lacks, in catalogue order.
    pub fn missing_from(&self, other: &PermissionSet) -> Vec<String> {
        self.ordered()
            .into_iter()
            .filter(|name| !other.contains(name))
            .collect()
    }

    /// The names, in catalogue order (unknown names last, sorted).
    pub fn ordered(&self) -> Vec<String> {
        let mut out: Vec<String> = USER_ROLE
            .iter()
            .chain(ADMIN_ONLY)
            .filter(|name| self.0.contains(**name))
            .map(|name| (*name).to_owned())
            .collect();
        out.extend(self.0.iter().filter(|name| !is_known(name)).cloned());
        out
    }

    /// The names as a JMAP set (`{"name": true, …}`).
    pub fn to_jmap_set(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.ordered()
                .into_iter()
                .map(|name| (name, serde_json::Value::Bool(true)))
                .collect(),
        )
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_role_has_239_permissions_with_all_self_service_ones() {
        assert_eq!(USER_ROLE.len(), 239);
        for name in SELF_SERVICE {
            assert!(USER_ROLE.contains(name), "{name}");
        }
    }

    #[test]
    fn ordered_follows_the_catalogue() {
        let mut set = PermissionSet::user_role();
        set.subtract(&PermissionSet::from_names(SELF_SERVICE.iter().copied()));
        let ordered = set.ordered();
        assert_eq!(ordered.len(), 220);
        assert_eq!(
            ordered.first().map(String::as_str),
            Some("jmapPrincipalCreate")
        );
    }
}
