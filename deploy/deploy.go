// Package deploy embeds the deployment files that `onramp dev` renders at run time; the same
// files serve docker-compose.yml.
package deploy

import "embed"

// Kratos holds kratos/kratos.yml, the identity schema, and the courier, hook and mapper jsonnet.
//
//go:embed kratos/kratos.yml kratos/identity.schema.json kratos/courier-body.jsonnet kratos/gate-body.jsonnet kratos/signed-in-body.jsonnet kratos/oidc-mapper.jsonnet
var Kratos embed.FS

// OIDCMapper is the partner claims mapper template (kratos.MapperURL binds it to a partner).
//
//go:embed kratos/oidc-mapper.jsonnet
var OIDCMapper []byte

// Catalog is the demo catalog `onramp dev` loads: plans.yaml and products/<slug>/product.yaml
// with each version's OpenAPI document beside it.
//
//go:embed catalog
var Catalog embed.FS
