package auth

import (
	"strings"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// BearerFromMetadata returns the token of the "authorization: Bearer <token>"
// entry of md, which is gRPC metadata (google.golang.org/grpc/metadata.MD
// converts implicitly) or an http.Header. The key and the scheme are matched
// without regard to case; spaces around the token are removed. It returns a
// dwell.Unauthenticated error if there is no authorization entry or it
// holds no token ("missing bearer token"), if it uses another scheme, or if
// there is more than one authorization value, which would leave it
// ambiguous which one was meant. It does not verify the token.
func BearerFromMetadata(md map[string][]string) (string, error) {
	const op dwell.Op = "auth.BearerFromMetadata"
	var values []string
	for k, v := range md {
		if strings.EqualFold(k, "authorization") {
			values = append(values, v...)
		}
	}
	switch len(values) {
	case 0:
		return "", dwell.E(op, dwell.Unauthenticated, dwell.ReasonTokenMissing, msgNoBearer)
	case 1:
	default:
		return "", dwell.E(op, dwell.Unauthenticated, msgManyBearers)
	}
	v := strings.TrimSpace(values[0])
	if v == "" {
		return "", dwell.E(op, dwell.Unauthenticated, dwell.ReasonTokenMissing, msgNoBearer)
	}
	scheme, token, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "bearer") {
		return "", dwell.E(op, dwell.Unauthenticated, dwell.ReasonTokenMissing, msgScheme)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", dwell.E(op, dwell.Unauthenticated, dwell.ReasonTokenMissing, msgNoBearer)
	}
	return token, nil
}
