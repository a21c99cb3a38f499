using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>One <c>server.mjs --mode relay</c> shared by the tests of a class; tests use distinct broadcast names.</summary>
public sealed class RelayServerFixture : IAsyncLifetime
{
    private NodeServer? _server;

    /// <summary>The running server.</summary>
    public NodeServer Server => _server ?? throw new InvalidOperationException("fixture not initialized");

    /// <inheritdoc />
    public async Task InitializeAsync() => _server = await NodeServer.StartAsync("relay");

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
