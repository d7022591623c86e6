package main

import (
	"testing"

	"github.com/sesame-idp/sesame/storage/postgres/pgtest"
)

// TestOnPostgres runs the end-to-end tests that touch every kind of record
// again, with the PostgreSQL backend (SESAME_TEST_POSTGRES_DSN).
func TestOnPostgres(t *testing.T) {
	if testing.Short() {
		// The storage conformance suite still runs on both backends.
		t.Skip("the end-to-end tests' second run, on PostgreSQL: -short runs them on SQLite only")
	}
	base := pgtest.BaseDSN(t)
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"CodeFlow", TestCodeFlowWithOrganizationClaims},
		{"RefreshRotation", TestRefreshRotationAndReuse},
		{"Revocation", TestRevocationIntrospectionAndUserinfo},
		{"SingleSignOn", TestSingleSignOnAndLogout},
		{"KeyRotation", TestKeyRotation},
		{"TokenEndpointBadInput", TestTokenEndpointBadInput},
		{"Sessions", TestSessionIdleAndAbsoluteExpiry},
		{"Signup", TestSignupFranceValidationAndMembers},
		{"SignupBadInput", TestSignupBadInput},
		{"Members", TestMembersScreenRules},
		{"SetPasswordLinks", TestSetPasswordLinks},
		{"MailOutage", TestMailSurvivesSMTPOutage},
		{"OutboxAtRest", TestOutboxHoldsNoLiveTokenAtRest},
		{"SecondFactor", TestSecondFactorSignIn},
		{"StepUp", TestStepUpAndForcedEnrolment},
		{"Throttling", TestGuessingIsThrottled},
		{"Forgot", TestForgotAndResetPassword},
		{"ChangePassword", TestChangePasswordAndSessions},
		{"Backchannel", TestBackchannelLogout},
		{"GetNeverReplacesSecondFactor", TestGetNeverReplacesSecondFactor},
		{"InvitationPolicy", TestInvitationHonoursTwoFactorPolicy},
		{"OlderInvitationLink", TestOlderInvitationLinkIsVoid},
		{"CodeFailuresCount", TestRightPasswordDoesNotClearCodeFailures},
		{"Lockout", TestLockoutDoesNotLockOwnerOut},
		{"Reauthentication", TestReauthenticationAfterAMinute},
		{"OrganizationPowers", TestOrganizationsEarnTheirPowers},
		{"InvitationsReserveNothing", TestInvitationsReserveNothing},
		{"LastActiveAdmin", TestLastActiveAdminStays},
		{"ConcurrentStepDowns", TestConcurrentStepDownsKeepAnAdmin},
		{"RemovedMember", TestRemovedMemberIsLoggedOutEverywhere},
		{"ClientSecrets", TestClientSecretsUseAKeyedHash},
		{"ClientAuthBudget", TestClientAuthFailuresHaveAPerIPBudget},
		{"APIIfMatchRace", TestAPIIfMatchRace},
	}
	usePostgres(t, base) // for the subtests too, parallel ones included
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
}
