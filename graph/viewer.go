package graph

import (
	"github.com/notifyhq/notify/graph/model"
	"github.com/notifyhq/notify/internal/auth"
)

// viewer is the caller as Query.me shows them. Without a principal the service is in
// open mode (with credentials configured, no operation runs without one): anyone may
// do anything, as an admin may.
func viewer(p *auth.Principal) *model.Viewer {
	if p == nil {
		admin := model.RoleAdmin
		return &model.Viewer{Name: "anonymous", Role: &admin}
	}
	v := &model.Viewer{Name: p.Name}
	var role model.Role
	switch p.Role {
	case auth.Viewer:
		role = model.RoleViewer
	case auth.Operator:
		role = model.RoleOperator
	case auth.Admin:
		role = model.RoleAdmin
	default:
		return v // an OIDC JWT without a notify role
	}
	v.Role = &role
	return v
}
