package activities

import (
	"context"

	"github.com/onramp-dev/onramp"
)

// IssueSandboxCredential issues the organisation's first sandbox credential and returns its id.
// Idempotent: a second run returns the credential the first one issued.
func (a *Activities) IssueSandboxCredential(ctx context.Context, orgID string) (string, error) {
	c, err := a.Credentials.IssueFirstSandbox(ctx, orgID)
	if onramp.ErrorCode(err) == onramp.EFORBIDDEN {
		return "", nil // nothing assigned in the sandbox yet: members create keys once something is
	} else if err != nil {
		return "", temporalError(err)
	}
	return c.ID, nil
}
