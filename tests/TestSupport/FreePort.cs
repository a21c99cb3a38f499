using System.Net;
using System.Net.Sockets;

namespace MoqCluster.TestSupport;

/// <summary>Loopback TCP ports for servers started by tests.</summary>
public static class FreePort
{
    /// <summary>
    /// A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it, so concurrent callers
    /// get different ports). Prefer letting a server bind port 0 and report its port when it can.
    /// </summary>
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
