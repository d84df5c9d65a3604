/// Keys that must be unique per tenant — a dataset's content key, a job's idempotency key — are stored with
/// their tenant in front, so that two tenants who upload the same bytes, or pick the same `Idempotency-Key`,
/// never meet. A space separates them: neither tenant names nor idempotency keys may contain one. Without API
/// keys the tenant is "" and the key is unchanged, so stores written before tenants existed read the same.
package enum TenantScope {
    package static func key(_ key: String, tenant: String) -> String {
        tenant.isEmpty ? key : tenant + " " + key
    }
}
