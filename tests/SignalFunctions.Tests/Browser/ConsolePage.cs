using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Drawing;
using OpenQA.Selenium;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Browser;

/// <summary>
/// The ops console in a headless Chromium 1280 px wide, opened as an operator opens it in Azure:
/// with <c>?code=</c>, which the page must pass on to every API it reads.
/// </summary>
public sealed class ConsolePage : IDisposable
{
    public const string Key = "console-test-key";

    /// <summary>Set to 1 to save the screenshots the README shows into docs/images/.</summary>
    public const string ScreenshotsVariable = "SIGNAL_SCREENSHOTS";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public HeadlessChromium Browser { get; }

    private ConsolePage(HeadlessChromium browser) => Browser = browser;

    /// <param name="rest">Appended to <c>/api/console?code=KEY</c>: more query or a #fragment.</param>
    public static ConsolePage Open(AppProcess app, string rest = "")
    {
        var browser = HeadlessChromium.Start();
        try
        {
            browser.Driver.Manage().Window.Size = new Size(1280, 1000);
            browser.Driver.Navigate().GoToUrl(new Uri(app.BaseAddress, $"api/console?code={Key}{rest}"));
            // Every 5 s the page reads two APIs: keep their entries past the default 250, for ApiRequests.
            browser.Run("performance.setResourceTimingBufferSize(100000)");
            return new ConsolePage(browser);
        }
        catch
        {
            browser.Dispose();
            throw;
        }
    }

    public IWebDriver Driver => Browser.Driver;

    public object? Run(string script, params object[] args) => Browser.Run(script, args);

    /// <summary>The element's textContent: what the page wrote, whatever CSS shows of it.</summary>
    public string Text(string css) => (string)Run("return document.querySelector(arguments[0])?.textContent ?? null", css)!
        ?? throw new NoSuchElementException($"nothing matches {css}");

    public IReadOnlyList<string> Texts(string css) =>
        ((ReadOnlyCollection<object>)Run("return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)", css)!).Cast<string>().ToList();

    /// <summary>Waits until the page shows what <paramref name="expected"/> says (it refreshes and loads asynchronously).</summary>
    public async Task<T> UntilAsync<T>(Func<T> read, Func<T, bool> expected, string what)
    {
        var clock = Stopwatch.StartNew();
        T seen = default!;
        Exception? last = null;
        while (clock.Elapsed < Patience)
        {
            try
            {
                seen = read();
                if (expected(seen))
                {
                    return seen;
                }
                last = null;
            }
            catch (NoSuchElementException ex)
            {
                last = ex;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The console did not show {what} within {Patience.TotalSeconds} s; it showed: {seen}{(last is null ? "" : $" ({last.Message})")}. " +
                                   $"Status lines: {string.Join(" | ", Texts(".status"))}");
    }

    public Task<string> UntilTextAsync(string css, string expected) => UntilAsync(() => Text(css), text => text == expected, $"'{expected}' in {css}");

    /// <summary>Every app URL the page requested but its own files: each must carry the key.</summary>
    public IReadOnlyList<Uri> ApiRequests() =>
        ((ReadOnlyCollection<object>)Run("return performance.getEntriesByType('resource').map(e => e.name)")!)
            .Select(url => new Uri((string)url))
            .Where(url => url.AbsolutePath.StartsWith("/api/", StringComparison.Ordinal) && !url.AbsolutePath.StartsWith("/api/console/", StringComparison.Ordinal))
            .ToList();

    /// <summary>No markup from data became elements, and no script from data ran.</summary>
    public void AssertNothingInjected()
    {
        Assert.Equal(0L, Run("return document.querySelectorAll('main img, main script, main iframe, main object').length"));
        Assert.Null(Run("return window.__pwned ?? null"));
    }

    /// <summary>
    /// Saves the element (or the window) as docs/images/{name}.png when SIGNAL_SCREENSHOTS=1, so a
    /// test run leaves the tree clean and a deliberate one refreshes the README's images
    /// (<c>SIGNAL_SCREENSHOTS=1 ./test.sh --filter ConsoleBrowserTests</c>, then
    /// <c>pngquant --quality 65-90 --strip --force --output F F</c> on each, to keep them small).
    /// </summary>
    public void Screenshot(string name, string? css = null)
    {
        if (Environment.GetEnvironmentVariable(ScreenshotsVariable) != "1")
        {
            return;
        }
        var folder = Path.Combine(Repo.Root, "docs", "images");
        Directory.CreateDirectory(folder);
        Screenshot shot = css is null
            ? ((ITakesScreenshot)Driver).GetScreenshot()
            : ((ITakesScreenshot)Driver.FindElement(By.CssSelector(css))).GetScreenshot();
        shot.SaveAsFile(Path.Combine(folder, $"{name}.png"));
    }

    public void Dispose() => Browser.Dispose();
}
