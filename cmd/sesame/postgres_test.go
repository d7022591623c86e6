package main

import (
	"testing"

	"github.com/sesame-idp/sesame/storage/postgres/pgtest"
)

// TestOnPostgres runs the end-to-end tests that touch every kind of record
// again, with the PostgreSQL backend (SESAME_TEST_POSTGRES_DSN).
func TestOnPostgres(t *testing.T) {
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
		{"SecondFactor", TestSecondFactorSignIn},
		{"StepUp", TestStepUpAndForcedEnrolment},
		{"Throttling", TestGuessingIsThrottled},
		{"Forgot", TestForgotAndResetPassword},
		{"ChangePassword", TestChangePasswordAndSessions},
		{"Backchannel", TestBackchannelLogout},
		{"ClientSecrets", TestClientSecretsUseAKeyedHash},
		{"ClientAuthBudget", TestClientAuthFailuresHaveAPerIPBudget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pgBase = base
			defer func() { pgBase = "" }()
			tc.run(t)
		})
	}
}
