using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MoqCluster.Edge.Auth;

/// <summary>Registers edge authentication from configuration (<c>Auth:Key</c>, <c>Auth:Public</c>).</summary>
public static class AuthServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ConnectionAuthorizer"/> and <see cref="AuthFailures"/>. <c>Auth:Key</c> is a JWK file (JSON or
    /// legacy base64url) or a directory of <c>&lt;kid&gt;.jwk</c> files; a single key file is loaded now so a bad key
    /// fails at startup. <c>Auth:Public</c> lists comma-separated anonymous prefixes (default <c>anon</c> without a
    /// key, none with one).
    /// </summary>
    /// <exception cref="KeyLoadException">The key file is missing or unusable (e.g. an EdDSA key).</exception>
    public static IServiceCollection AddEdgeAuth(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var keys = ConnectionAuthorizer.OpenKeys(configuration);
        var publicPrefixes = configuration["Auth:Public"];
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<AuthFailures>();
        services.AddSingleton(sp => ConnectionAuthorizer.Create(
            keys,
            publicPrefixes,
            sp.GetRequiredService<AuthFailures>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}
