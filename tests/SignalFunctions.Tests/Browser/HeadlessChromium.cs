using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace SignalFunctions.Tests.Browser;

/// <summary>
/// The Debian chromium, driven by the Debian chromedriver, headless, with a fresh profile (so a
/// fresh, empty localStorage) per instance. Both paths are given explicitly so Selenium Manager
/// never runs: there is no internet here. Dispose ends chromedriver and every browser it started.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    public const string BrowserPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly ChromeDriverService _service;
    private readonly string _profile;

    public ChromeDriver Driver { get; }

    private HeadlessChromium(ChromeDriverService service, ChromeDriver driver, string profile)
    {
        _service = service;
        Driver = driver;
        _profile = profile;
    }

    public static HeadlessChromium Start()
    {
        if (!File.Exists(BrowserPath) || !File.Exists(DriverPath))
        {
            throw new InvalidOperationException($"{BrowserPath} and {DriverPath} are needed; ./test.sh installs chromium and chromium-driver.");
        }
        var profile = Path.Combine(Path.GetTempPath(), $"signal-chromium-{Guid.NewGuid():N}");
        Directory.CreateDirectory(profile);

        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;

        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            $"--user-data-dir={profile}");

        try
        {
            var driver = new ChromeDriver(service, options, CommandTimeout);
            driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(20);
            driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(10);
            return new HeadlessChromium(service, driver, profile);
        }
        catch
        {
            EndProcessTree(service);
            service.Dispose();
            TryDelete(profile);
            throw;
        }
    }

    public object? Run(string script, params object[] args) => Driver.ExecuteScript(script, args);

    public void Dispose()
    {
        try
        {
            Driver.Quit();
        }
        catch (WebDriverException)
        {
            // A browser that no longer answers is ended with its driver below.
        }
        finally
        {
            // Quit normally ends chromium; a hung one is ended by id with chromedriver's tree.
            EndProcessTree(_service);
            _service.Dispose();
            TryDelete(_profile);
        }
    }

    private static void EndProcessTree(ChromeDriverService service)
    {
        try
        {
            if (service.ProcessId > 0)
            {
                using var process = Process.GetProcessById(service.ProcessId);
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying process: the temp folder is cleaned by the machine.
        }
    }
}
