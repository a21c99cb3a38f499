using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MoqCluster.Edge.Auth;

/// <summary>Registers edge authentication from configuration (<c>Auth:Key</c>, <c>Auth:Public</c>).</summary>
public static class AuthServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ConnectionAuthorizer"/> and its parts. <c>Auth:Key</c> is a JWK file (JSON or legacy base64url)
    /// or a directory of <c>&lt;kid&gt;.jwk</c> files; a single key file is loaded now so a bad key fails at startup.
    /// <c>Auth:Public</c> lists comma-separated anonymous prefixes (default <c>anon</c> without a key, none with one).
    /// </summary>
    /// <exception cref="KeyLoadException">The key file is missing or unusable (e.g. an EdDSA key).</exception>
    public static IServiceCollection AddEdgeAuth(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var keyPath = configuration["Auth:Key"];
        var keys = string.IsNullOrWhiteSpace(keyPath) ? null : KeyRing.Open(keyPath);
        var publicAccess = PublicAccess.Parse(configuration["Auth:Public"] ?? (keys is null ? "anon" : ""));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(publicAccess);
        services.AddSingleton<AuthFailures>();
        if (keys is not null)
            services.AddSingleton(sp => new TokenVerifier(keys, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new ConnectionAuthorizer(
            sp.GetService<TokenVerifier>(),
            publicAccess,
            sp.GetRequiredService<AuthFailures>(),
            sp.GetRequiredService<ILogger<ConnectionAuthorizer>>()));
        return services;
    }
}
