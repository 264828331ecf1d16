import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses SVG text as XML and counts the plotted series (`<g class="series">`).
public final class SVGChecker: NSObject, XMLParserDelegate {
    public var series = 0
    public var seriesNames: [String] = []
    public var root: String?
    public var cellCounts: [Int] = []
    public var outside = 0

    public func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = name }
        if name == "rect", attributes["class"] == "cell", let c = attributes["data-count"].flatMap(Int.init) { cellCounts.append(c) }
        if name == "g", attributes["class"] == "heatmap", let o = attributes["data-outside"].flatMap(Int.init) { outside += o }
        if name == "g", attributes["class"] == "series" {
            series += 1
            seriesNames.append(attributes["data-name"] ?? "")
        }
    }

    /// The heatmap cells' counts and the samples outside the view.
    public static func heatmap(_ svg: String) -> (cells: [Int], outside: Int) {
        let checker = SVGChecker()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = checker
        _ = parser.parse()
        return (checker.cellCounts, checker.outside)
    }

    public static func check(_ svg: String) -> (wellFormed: Bool, root: String?, series: Int, names: [String]) {
        let checker = SVGChecker()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = checker
        let ok = parser.parse()
        return (ok, checker.root, checker.series, checker.seriesNames)
    }
}
