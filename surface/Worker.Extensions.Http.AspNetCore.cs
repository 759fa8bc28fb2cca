// Microsoft.Azure.Functions.Worker.Extensions.Http.AspNetCore 2.1.1
// Read from Azure/azure-functions-dotnet-worker: extensions/Worker.Extensions.Http.AspNetCore/src/FunctionsHostBuilderExtensions.cs.
using FunctionsChat.Surface;

namespace Microsoft.Extensions.Hosting
{
    public static class FunctionsHostBuilderExtensions
    {
        public static IHostBuilder ConfigureFunctionsWebApplication(this IHostBuilder builder) => throw SurfaceOnly.Fail();
    }
}
