from papercli.console import main

main()
