using System.IO.Compression;
using System.Runtime.Versioning;
using System.Text.Json;
using System.Text.RegularExpressions;
using NCrontab;
using SignalFunctions.Hosting;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SignalFunctions.Tests.Hosting;

/// <summary>What ./package.sh builds, against the host.json and function.json schema of AZURE.md.</summary>
[SupportedOSPlatform("linux")] // The package is linux-x64, built and checked on Linux.
public sealed partial class PackageLayoutTests(ITestOutputHelper output)
{
    private static readonly string[] HttpMethods = ["get", "post", "put", "patch", "delete", "head", "options", "trace"];

    [Fact]
    public async Task Package_holds_host_json_the_executable_and_one_folder_per_function_named_after_it()
    {
        var package = await FunctionPackage.GetAsync();
        output.WriteLine($"./package.sh took {package.BuildTime.TotalSeconds:F0} s");

        Assert.Equal(["SignalFunctions", "appsettings.json", "host.json"],
            Directory.GetFiles(package.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(Functions.All.Select(f => f.Name).Order(StringComparer.Ordinal),
            Directory.GetDirectories(package.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var function in Functions.All)
        {
            Assert.Equal(["function.json"], Directory.GetFileSystemEntries(Path.Combine(package.Folder, function.Name)).Select(Path.GetFileName));
        }
    }

    [Fact]
    public async Task Http_function_json_is_one_httpTrigger_in_and_one_http_out_so_the_host_forwards_the_request()
    {
        var package = await FunctionPackage.GetAsync();
        foreach (var function in Functions.Http)
        {
            var root = ReadFunctionJson(package, function.Name);
            Assert.Equal(["bindings"], root.EnumerateObject().Select(p => p.Name));
            var bindings = root.GetProperty("bindings").EnumerateArray().ToList();
            Assert.Equal(2, bindings.Count);

            var trigger = bindings[0];
            Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
            Assert.Equal("in", trigger.GetProperty("direction").GetString());
            Assert.Equal("req", trigger.GetProperty("name").GetString());
            var authLevel = trigger.GetProperty("authLevel").GetString();
            Assert.Contains(authLevel, new[] { "anonymous", "function", "admin" });
            Assert.Equal(function.AuthLevel.ToString().ToLowerInvariant(), authLevel);

            var methods = trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!).ToList();
            Assert.All(methods, m => Assert.Contains(m, HttpMethods));
            Assert.Equal(methods.Count, methods.Distinct().Count());
            Assert.Subset(methods.ToHashSet(), function.Methods.ToHashSet());

            var route = trigger.GetProperty("route").GetString()!;
            Assert.False(route.StartsWith('/') || route.StartsWith("api/", StringComparison.OrdinalIgnoreCase), $"{function.Name}: route '{route}' carries the prefix");
            Assert.DoesNotMatch(RouteConstraint(), route);
            Assert.Equal(RouteConstraint().Replace(function.Route, "}"), route);

            var output = bindings[1];
            Assert.Equal("http", output.GetProperty("type").GetString());
            Assert.Equal("out", output.GetProperty("direction").GetString());
            Assert.Equal("res", output.GetProperty("name").GetString());
        }
    }

    [Fact]
    public async Task Timer_function_json_reads_its_6_field_NCRONTAB_schedule_from_an_app_setting()
    {
        var package = await FunctionPackage.GetAsync();
        foreach (var timer in Functions.Timers)
        {
            var bindings = ReadFunctionJson(package, timer.Name).GetProperty("bindings").EnumerateArray().ToList();
            var trigger = Assert.Single(bindings);
            Assert.Equal("timerTrigger", trigger.GetProperty("type").GetString());
            Assert.Equal("in", trigger.GetProperty("direction").GetString());
            Assert.Equal("timer", trigger.GetProperty("name").GetString());
            Assert.Equal($"%{timer.ScheduleSetting}%", trigger.GetProperty("schedule").GetString());
            // Explicitly off: runOnStartup would also fire on every scale-out.
            Assert.Equal(JsonValueKind.False, trigger.GetProperty("runOnStartup").ValueKind);
            AssertSixFieldNcrontab(timer.DefaultSchedule);
        }
    }

    [Fact]
    public void Every_timer_schedule_setting_is_given_to_the_host_locally_and_in_Azure()
    {
        // An unresolved %Setting% stops the host from indexing the function at all.
        var local = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Root, "local.settings.sample.json"))).RootElement.GetProperty("Values");
        var infra = string.Concat(Directory.GetFiles(Path.Combine(Repo.Root, "infra"), "*.tf").Select(File.ReadAllText));
        foreach (var timer in Functions.Timers)
        {
            AssertSixFieldNcrontab(local.GetProperty(timer.ScheduleSetting).GetString()!);
            Assert.Contains(timer.ScheduleSetting, infra, StringComparison.Ordinal);
        }
        Assert.Equal("custom", local.GetProperty("FUNCTIONS_WORKER_RUNTIME").GetString());
    }

    [Fact]
    public void Every_declared_migration_argument_is_set_locally_and_in_Azure_with_its_default()
    {
        var local = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Root, "local.settings.sample.json"))).RootElement.GetProperty("Values");
        var variables = File.ReadAllText(Path.Combine(Repo.Root, "infra", "variables.tf"));
        var arguments = SignalFunctions.Migrations.MigrationCatalog.All.SelectMany(m => m.Arguments.Select(a => (Migration: m.Name, Argument: a))).ToList();
        Assert.NotEmpty(arguments);
        foreach (var (migration, argument) in arguments)
        {
            var setting = $"Migrations__Arguments__{migration.Replace('-', '_')}__{argument.Name}";
            Assert.Equal(argument.Default.ToString(System.Globalization.CultureInfo.InvariantCulture), local.GetProperty(setting).GetString());
            Assert.Matches("\"" + Regex.Escape(migration) + "\"\\s*=\\s*\\{[^}]*\\b" + argument.Name + "\\s*=\\s*" + argument.Default + "\\b", variables);
        }
    }

    [Fact]
    public void Azure_gets_a_stage_flag_for_every_declared_migration()
    {
        // Without its flag a migration has no stage in App Configuration mode, and its ingest answers 503.
        var main = File.ReadAllText(Path.Combine(Repo.Root, "infra", "main.tf"));
        var list = Regex.Match(main, @"resource ""azurerm_app_configuration_key"" ""stage_flag"" \{\s*for_each\s*=\s*toset\(\[([^\]]*)\]\)");
        Assert.True(list.Success, "infra/main.tf declares the stage flags with for_each = toset([...])");
        var flags = list.Groups[1].Value.Split(',').Select(name => name.Trim().Trim('"')).Order();
        Assert.Equal(KnownMigrations.Names.Order(), flags);
    }

    [Fact]
    public async Task Host_json_starts_the_packaged_executable_and_forwards_http_requests()
    {
        var package = await FunctionPackage.GetAsync();
        var text = File.ReadAllText(Path.Combine(package.Folder, "host.json"));
        Assert.Equal(File.ReadAllText(Path.Combine(Repo.Root, "host.json")), text);

        var host = JsonDocument.Parse(text).RootElement;
        Assert.Equal("2.0", host.GetProperty("version").GetString());
        Assert.Equal("api", host.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        var customHandler = host.GetProperty("customHandler");
        Assert.True(customHandler.GetProperty("enableForwardingHttpRequest").GetBoolean());
        var executable = customHandler.GetProperty("description").GetProperty("defaultExecutablePath").GetString();
        Assert.Equal(FunctionPackage.ExecutableName, executable);
        var mode = File.GetUnixFileMode(Path.Combine(package.Folder, executable!));
        Assert.True(mode.HasFlag(UnixFileMode.UserExecute), $"{executable} is {mode}");
    }

    [Fact]
    public async Task Zip_holds_the_package_files_at_its_root_with_the_executable_bit_kept()
    {
        var package = await FunctionPackage.GetAsync();
        using var zip = ZipFile.OpenRead(package.Zip);

        var files = zip.Entries.Where(e => !e.FullName.EndsWith('/')).ToList();
        Assert.Equal(
            Directory.GetFiles(package.Folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(package.Folder, f)).Order(StringComparer.Ordinal),
            files.Select(e => e.FullName).Order(StringComparer.Ordinal));
        foreach (var entry in files)
        {
            Assert.Equal(new FileInfo(Path.Combine(package.Folder, entry.FullName)).Length, entry.Length);
        }

        // The high 16 bits of a zip entry's external attributes are its Unix st_mode.
        var mode = zip.GetEntry(FunctionPackage.ExecutableName)!.ExternalAttributes >>> 16;
        Assert.Equal(0b1_000_000_000_000_000, mode & 0b1_111_000_000_000_000); // S_IFREG
        Assert.Equal(0b001_001_001, mode & 0b001_001_001); // x for user, group, other
    }

    private static JsonElement ReadFunctionJson(FunctionPackage package, string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(package.Folder, name, "function.json"))).RootElement;

    private static void AssertSixFieldNcrontab(string expression)
    {
        Assert.Equal(6, expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.NotNull(CrontabSchedule.TryParse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = true }));
    }

    /// <summary>An ASP.NET route constraint such as {signalId:guid}; the host's own routing is not ours to rely on.</summary>
    [GeneratedRegex(@":[^}]*\}")]
    private static partial Regex RouteConstraint();
}
