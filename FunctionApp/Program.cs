using FunctionsChat;
using Microsoft.Extensions.Hosting;

var host = new HostBuilder()
    .ConfigureFunctionsWebApplication()
    .ConfigureServices((context, services) => services.AddFunctionsChat(context.Configuration))
    .Build();

host.Run();
